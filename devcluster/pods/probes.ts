/**
 * Probes as the kubelet runs them: httpGet and tcpSocket from the node (here: the host) to the pod
 * IP, exec inside the container's view; a result counts after `failureThreshold` failures or
 * `successThreshold` successes in a row.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import type { V1Container, V1Probe } from '@kubernetes/client-node';

export interface ProbeContext {
  podIP: string;
  container: V1Container;
  exec: (command: string[], timeoutMs: number) => Promise<number>;
}

function portOf(port: number | string | undefined, container: V1Container): number {
  if (typeof port === 'number') return port;
  const named = container.ports?.find((p) => p.name === port);
  if (named) return named.containerPort;
  const n = Number(port);
  if (Number.isInteger(n)) return n;
  throw new Error(`container ${container.name} has no port named "${String(port)}"`);
}

/** One probe attempt: true when it succeeded. */
export async function probeOnce(probe: V1Probe, ctx: ProbeContext): Promise<boolean> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.exec?.command) return (await ctx.exec(probe.exec.command, timeoutMs)) === 0;
  if (probe.httpGet) {
    const g = probe.httpGet;
    const port = portOf(g.port as number | string, ctx.container);
    return new Promise((resolve) => {
      const req = request({ host: g.host ?? ctx.podIP, port, path: g.path ?? '/', method: 'GET', timeout: timeoutMs, headers: Object.fromEntries((g.httpHeaders ?? []).map((h) => [h.name, h.value])) }, (res) => {
        res.resume();
        resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
      req.end();
    });
  }
  if (probe.tcpSocket) {
    const port = portOf(probe.tcpSocket.port as number | string, ctx.container);
    return new Promise((resolve) => {
      const s = connect({ host: probe.tcpSocket?.host ?? ctx.podIP, port, timeout: timeoutMs });
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('timeout', () => (s.destroy(), resolve(false)));
      s.once('error', () => resolve(false));
    });
  }
  return true;
}

/** Runs a probe periodically; calls `onChange` when its thresholded result flips. Returns a stop function. */
export function runProbe(probe: V1Probe, ctx: ProbeContext, initial: boolean, onChange: (ok: boolean) => void): () => void {
  let stopped = false;
  let ok = initial;
  let successes = 0;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  const tick = async (): Promise<void> => {
    if (stopped) return;
    const result = await probeOnce(probe, ctx).catch(() => false);
    if (stopped) return;
    if (result) {
      successes++;
      failures = 0;
      if (!ok && successes >= (probe.successThreshold ?? 1)) {
        ok = true;
        onChange(true);
      }
    } else {
      failures++;
      successes = 0;
      if (ok && failures >= (probe.failureThreshold ?? 3)) {
        ok = false;
        onChange(false);
      }
    }
    timer = setTimeout(() => void tick(), (probe.periodSeconds ?? 10) * 1000);
  };
  timer = setTimeout(() => void tick(), (probe.initialDelaySeconds ?? 0) * 1000);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
