/**
 * The connection pools KubeRest sends through, made for one set of TLS material and one proxy.
 * A proxy is the cluster's `proxy-url` (client-go: http, https or socks5): HTTP(S) proxies are
 * reached with CONNECT (hpagent), SOCKS5 ones with the host name resolved by the proxy, as Go's
 * SOCKS5 dialer sends it (socks-proxy-agent, socks5h). Both are the libraries client-node's
 * KubeConfig uses, imported only when a proxy is configured.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions } from 'node:https';
import { checkServerIdentity } from 'node:tls';

/** What a pool's connections are made with: any change needs new connections. */
export interface TransportKey {
  ca?: Buffer | string;
  cert?: Buffer | string;
  key?: Buffer | string;
  rejectUnauthorized: boolean;
  servername?: string;
  proxyUrl?: string;
}

export interface Pools {
  /** API requests: 16 connections at most */
  requests: HttpAgent;
  /** watches, which hold a connection each for minutes and must not take the requests' places */
  watches: HttpAgent;
}

/** The same material: the same object (NativeKubeConfig keeps them), else the same bytes (client-node reads files anew for each request). */
function same(a: Buffer | string | undefined, b: Buffer | string | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return Buffer.from(a).equals(Buffer.from(b));
}

/** True when both keys make the same connections. */
export function sameTransport(a: TransportKey, b: TransportKey): boolean {
  return a.rejectUnauthorized === b.rejectUnauthorized && a.servername === b.servername && a.proxyUrl === b.proxyUrl && same(a.ca, b.ca) && same(a.cert, b.cert) && same(a.key, b.key);
}

export async function createPools(server: URL, t: TransportKey): Promise<Pools> {
  const tls: AgentOptions = {
    ...(t.ca ? { ca: t.ca } : {}),
    ...(t.cert ? { cert: t.cert } : {}),
    ...(t.key ? { key: t.key } : {}),
    rejectUnauthorized: t.rejectUnauthorized,
    ...(t.servername ? { servername: t.servername } : {}),
  };
  const secure = server.protocol === 'https:';
  const make = await agentFactory(secure, t.proxyUrl, serverHost(server, t));
  return { requests: make({ ...tls, keepAlive: true, maxSockets: 16 }), watches: make({ ...tls, keepAlive: true, maxSockets: Infinity }) };
}

/** The name the server's certificate must carry: tls-server-name, else the server's host. */
function serverHost(server: URL, t: TransportKey): string {
  return t.servername ?? server.hostname.replace(/^\[(.*)\]$/, '$1');
}

async function agentFactory(secure: boolean, proxyUrl: string | undefined, host: string): Promise<(o: AgentOptions) => HttpAgent> {
  if (proxyUrl === undefined) return secure ? (o) => new HttpsAgent(o) : (o) => new HttpAgent(o);
  const proxy = new URL(proxyUrl);
  if (proxy.protocol === 'socks5:') {
    const { SocksProxyAgent } = await import('socks-proxy-agent');
    const url = new URL(proxyUrl);
    url.protocol = 'socks5h:';
    // socks-proxy-agent upgrades to TLS without the host when it is an IP address (API servers
    // often are: https://10.96.0.1), and Node then checks the certificate against "localhost".
    return (o) => {
      const options: AgentOptions = { ...o, checkServerIdentity: (_host, cert) => checkServerIdentity(host, cert) };
      return new SocksProxyAgent(url, options);
    };
  }
  if (proxy.protocol === 'http:' || proxy.protocol === 'https:') {
    const { HttpProxyAgent, HttpsProxyAgent } = await import('hpagent');
    return secure ? (o) => new HttpsProxyAgent({ ...o, proxy }) : (o) => new HttpProxyAgent({ ...o, proxy });
  }
  throw new Error(`proxy-url ${proxyUrl}: unsupported scheme ${proxy.protocol.replace(/:$/, '')}, must be http, https or socks5`);
}
