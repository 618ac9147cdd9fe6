/**
 * Test helper: the two kinds of proxy a kubeconfig's proxy-url names, on loopback, counting the
 * tunnels they open: an HTTP proxy that answers CONNECT, and a SOCKS5 proxy (no authentication,
 * CONNECT only, RFC 1928) that takes host names as well as addresses.
 */
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface TestProxy {
  url: string;
  /** host:port of every tunnel opened, in order */
  tunnels: string[];
  close(): Promise<void>;
}

function tunnel(client: Socket, host: string, port: number, opened: () => void, head?: Buffer): Socket {
  const upstream = connect(port, host, opened);
  if (head?.length) upstream.write(head);
  client.pipe(upstream).pipe(client);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
  return upstream;
}

async function listen(server: Server, sockets: Set<Socket>, scheme: string, tunnels: string[]): Promise<TestProxy> {
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    tunnels,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function httpConnectProxy(): Promise<TestProxy> {
  const tunnels: string[] = [];
  const sockets = new Set<Socket>();
  const server = createHttpServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    const [host = '', port = '0'] = target.split(/:(?=\d+$)/);
    sockets.add(client);
    tunnels.push(target);
    tunnel(client, host, Number(port), () => client.write('HTTP/1.1 200 Connection Established\r\n\r\n'), head);
  });
  return listen(server, sockets, 'http', tunnels);
}

export async function socks5Proxy(): Promise<TestProxy> {
  const tunnels: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    let buffered = Buffer.alloc(0);
    let stage: 'greeting' | 'request' = 'greeting';
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      if (stage === 'greeting') {
        if (buffered.length < 2 || buffered.length < 2 + (buffered[1] ?? 0)) return;
        if (buffered[0] !== 5) return void client.destroy();
        buffered = buffered.subarray(2 + (buffered[1] ?? 0));
        client.write(Buffer.from([5, 0])); // no authentication
        stage = 'request';
      }
      if (buffered.length < 5) return;
      const type = buffered[3];
      const addrLength = type === 1 ? 4 : type === 4 ? 16 : 1 + (buffered[4] ?? 0);
      const end = 4 + addrLength + 2;
      if (buffered.length < end) return;
      const host = type === 1 ? [...buffered.subarray(4, 8)].join('.') : type === 3 ? buffered.subarray(5, 5 + (buffered[4] ?? 0)).toString() : '::1';
      const port = buffered.readUInt16BE(4 + addrLength);
      const rest = buffered.subarray(end);
      client.off('data', onData);
      tunnels.push(`${host}:${port}`);
      tunnel(client, host, port, () => client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0])), rest);
    };
    client.on('data', onData);
  });
  return listen(server, sockets, 'socks5', tunnels);
}
