/**
 * The live page of one mapper: follows /ui/events (server-sent events; the browser reconnects by
 * itself and resumes from the last message's id) and redraws the figures on every message.
 */
import { colourOf, drawCurves, drawMapping, drawSeries } from './charts.js';
import type { LiveData, RequestPoint, Sample } from './live-data.js';

/** As much as the mapper keeps: the page holds no more than the mapper does. */
const MAX_POINTS = 4096;
const MAX_SAMPLES = 600;
/** The figures show at least this much time. */
const MIN_WINDOW_MS = 30_000;
const MAX_WINDOW_MS = 600_000;

const points: RequestPoint[] = [];
const samples: Sample[] = [];
let updates = 0;

function byId<T extends Element>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return node as unknown as T;
}

function keepLast<T>(list: T[], max: number): void {
  if (list.length > max) list.splice(0, list.length - max);
}

function render(data: LiveData): void {
  points.push(...data.points);
  samples.push(...data.samples);
  keepLast(points, MAX_POINTS);
  keepLast(samples, MAX_SAMPLES);
  const to = data.now;
  // From the oldest point kept (at least a minute, at most ten: the samples the mapper keeps).
  const from = Math.max(Math.min(points[0]?.[0] ?? to, to - MIN_WINDOW_MS), to - MAX_WINDOW_MS);
  byId('device').textContent = data.device;
  byId('objective').textContent = data.objective ? `objective: ${data.objective}` : 'calibrating';
  drawMapping(byId('mapping'), { devices: data.devices, points, samples, from, to, maxSteps: data.maxSteps ?? 1 });
  drawCurves(byId('curves'), data.curves, data.devices);
  byId('unit').textContent = data.curves ? `(${data.curves.unit} by input length, as the engine estimates now)` : '';
  const list = byId<HTMLUListElement>('crossovers');
  list.replaceChildren(
    ...(data.curves?.crossovers ?? []).map((c) => {
      const li = document.createElement('li');
      li.textContent = `from n = ${c.n}: ${c.to} instead of ${c.from}`;
      return li;
    }),
  );
  drawSeries(byId('rtt'), samples, from, to, (l) => l.rttMs, data.devices, 'RTT ms');
  drawSeries(byId('bandwidth'), samples, from, to, (l) => l.bandwidthMbps, data.devices, 'Mbit/s');
  const shown = new Map<number, number>();
  for (const p of points) shown.set(p[2], (shown.get(p[2]) ?? 0) + 1);
  byId<HTMLTableElement>('counts').tBodies[0]?.replaceChildren(
    ...Object.entries(data.counts).map(([name, count]) => {
      const row = document.createElement('tr');
      row.dataset.device = name;
      row.dataset.colour = colourOf(data.devices, name);
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = colourOf(data.devices, name);
      const cells = [document.createElement('td'), document.createElement('td'), document.createElement('td')] as const;
      cells[0].append(swatch, name);
      cells[1].textContent = String(count);
      cells[1].className = 'num';
      cells[2].textContent = String(shown.get(data.devices.indexOf(name)) ?? 0);
      cells[2].className = 'num';
      row.append(...cells);
      return row;
    }),
  );
  document.body.dataset.updates = String(++updates);
}

function connect(): void {
  const status = byId('status');
  const events = new EventSource('/ui/events');
  events.onopen = () => {
    status.textContent = 'live';
    status.className = 'live';
  };
  events.onerror = () => {
    status.textContent = 'reconnecting…';
    status.className = 'down';
  };
  events.onmessage = (e: MessageEvent<string>) => render(JSON.parse(e.data) as LiveData);
}

connect();
