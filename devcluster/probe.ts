/** One-shot HTTP(S) GETs against the control plane's own loopback endpoints (health checks). */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface ProbeOptions {
  /** PEM bundle to verify the server with; without it, the certificate is not verified. */
  caPem?: string;
  /** Bearer token. */
  token?: string;
  timeoutMs?: number;
}

export interface ProbeResult {
  status: number;
  body: string;
}

/** GETs `url` (http or https, loopback only) and returns status and body; rejects on network errors. */
export function probe(url: string, options: ProbeOptions = {}): Promise<ProbeResult> {
  const target = new URL(url);
  if (target.hostname !== '127.0.0.1' && target.hostname !== 'localhost') {
    return Promise.reject(new Error(`refusing to probe ${url}: the test control plane is loopback only`));
  }
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
  return new Promise((resolve, reject) => {
    const onResponse = (res: import('node:http').IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    };
    const req =
      target.protocol === 'https:'
        ? httpsRequest(target, { headers, ca: options.caPem, rejectUnauthorized: options.caPem !== undefined }, onResponse)
        : httpRequest(target, { headers }, onResponse);
    req.setTimeout(options.timeoutMs ?? 5_000, () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}
