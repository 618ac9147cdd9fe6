/**
 * A minimal Chrome DevTools Protocol client over the browser's own pipe (--remote-debugging-pipe:
 * fd 3 carries our commands, fd 4 its answers and events, each a JSON message ending in a NUL
 * byte). No WebSocket, no downloaded browser, no version-pinned driver: it works with whatever
 * Chromium the distribution ships, which is what the page's tests run in.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

export type CdpParams = Record<string, unknown>;
export type CdpEvent = { method: string; params: CdpParams; sessionId?: string };

interface Pending {
  resolve: (value: CdpParams) => void;
  reject: (err: Error) => void;
  method: string;
}

/** Answers to commands, events to listeners; commands time out rather than hang a test. */
export class CdpConnection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(e: CdpEvent) => void>();
  private buffer = '';
  private closed: Error | undefined;

  constructor(private readonly input: Writable, output: Readable, private readonly timeoutMs = 30_000) {
    output.setEncoding('utf8');
    output.on('data', (chunk: string) => this.receive(chunk));
    output.on('close', () => this.fail(new Error('the browser closed its DevTools pipe')));
  }

  send(method: string, params: CdpParams = {}, sessionId?: string): Promise<CdpParams> {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.nextId++;
    return new Promise<CdpParams>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer from the browser within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, {
        method,
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.input.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  }

  on(listener: (e: CdpEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\0')) >= 0) {
      const text = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 1);
      const msg = JSON.parse(text) as { id?: number; result?: CdpParams; error?: { message: string }; method?: string; params?: CdpParams; sessionId?: string };
      if (msg.id !== undefined) {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(`${p.method}: ${msg.error.message}`));
        else p?.resolve(msg.result ?? {});
      } else if (msg.method) {
        const event: CdpEvent = { method: msg.method, params: msg.params ?? {}, ...(msg.sessionId ? { sessionId: msg.sessionId } : {}) };
        for (const l of this.listeners) l(event);
      }
    }
  }

  private fail(err: Error): void {
    this.closed = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

/** One tab, attached in flat mode: its commands carry its session id. */
export class Tab {
  constructor(readonly cdp: CdpConnection, readonly sessionId: string) {}

  send(method: string, params: CdpParams = {}): Promise<CdpParams> {
    return this.cdp.send(method, params, this.sessionId);
  }

  on(listener: (e: CdpEvent) => void): () => void {
    return this.cdp.on((e) => {
      if (e.sessionId === this.sessionId) listener(e);
    });
  }

  /** Evaluates an expression in the page and returns its value (awaited if it is a promise). */
  async evaluate<T>(expression: string): Promise<T> {
    const r = (await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true })) as {
      result: { value?: T };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    };
    if (r.exceptionDetails) throw new Error(`in the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value as T;
  }

  /** Polls `expression` until it is truthy; its last value is returned. */
  async waitFor<T>(expression: string, timeoutMs = 20_000, what = expression): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const v = await this.evaluate<T>(expression);
      if (v) return v;
      if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async navigate(url: string): Promise<void> {
    const loaded = new Promise<void>((resolve) => {
      const off = this.on((e) => {
        if (e.method === 'Page.loadEventFired') {
          off();
          resolve();
        }
      });
    });
    const r = (await this.send('Page.navigate', { url })) as { errorText?: string };
    if (r.errorText) throw new Error(`navigating to ${url}: ${r.errorText}`);
    await loaded;
  }

  async screenshot(): Promise<Buffer> {
    const r = (await this.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true })) as { data: string };
    return Buffer.from(r.data, 'base64');
  }
}

export interface Browser {
  cdp: CdpConnection;
  /** a new tab of the given size, with Runtime, Page, Log and Network events on */
  newTab(size?: { width: number; height: number }): Promise<Tab>;
  close(): Promise<void>;
}

/** Starts headless Chromium at `executable` with a throw-away profile. */
export async function launchChromium(executable: string): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'crime-chromium-'));
  const child: ChildProcess = spawn(
    executable,
    [
      '--headless',
      '--remote-debugging-pipe',
      `--user-data-dir=${profile}`,
      // Root (the tests and CI run as root) needs no sandbox; nothing here browses the web.
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-first-run',
      '--no-default-browser-check',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-extensions',
      '--mute-audio',
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 20_000) stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const cdp = new CdpConnection(child.stdio[3] as Writable, child.stdio[4] as Readable);
  try {
    await cdp.send('Browser.getVersion');
  } catch (err) {
    child.kill('SIGKILL');
    await rm(profile, { recursive: true, force: true });
    throw new Error(`${executable} did not start: ${(err as Error).message}\n${stderr.slice(-2000)}`);
  }
  return {
    cdp,
    async newTab(size = { width: 1100, height: 1000 }) {
      const { targetId } = (await cdp.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
      const { sessionId } = (await cdp.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
      const tab = new Tab(cdp, sessionId);
      await Promise.all(['Runtime.enable', 'Page.enable', 'Log.enable', 'Network.enable'].map((m) => tab.send(m)));
      await tab.send('Emulation.setDeviceMetricsOverride', { ...size, deviceScaleFactor: 1, mobile: false });
      return tab;
    },
    async close() {
      await cdp.send('Browser.close').catch(() => undefined);
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** What the page complained about: console errors, uncaught exceptions, browser log errors (failed loads, CSP). */
export function collectErrors(tab: Tab): string[] {
  const errors: string[] = [];
  tab.on((e) => {
    if (e.method === 'Runtime.consoleAPICalled' && (e.params.type === 'error' || e.params.type === 'assert')) {
      const args = e.params.args as Array<{ value?: unknown; description?: string }>;
      errors.push(`console.${String(e.params.type)}: ${args.map((a) => a.description ?? String(a.value)).join(' ')}`);
    } else if (e.method === 'Runtime.exceptionThrown') {
      const d = e.params.exceptionDetails as { text: string; exception?: { description?: string } };
      errors.push(`exception: ${d.exception?.description ?? d.text}`);
    } else if (e.method === 'Log.entryAdded') {
      const entry = e.params.entry as { level: string; text: string; url?: string };
      if (entry.level === 'error') errors.push(`log: ${entry.text}${entry.url ? ` (${entry.url})` : ''}`);
    }
  });
  return errors;
}

/** Every URL the page asked for. */
export function collectRequests(tab: Tab): string[] {
  const urls: string[] = [];
  tab.on((e) => {
    if (e.method === 'Network.requestWillBeSent') urls.push((e.params.request as { url: string }).url);
  });
  return urls;
}
