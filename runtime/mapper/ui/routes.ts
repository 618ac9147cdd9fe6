/**
 * The live page's routes on the mapper's port, open like /metrics (read-only, nothing secret):
 *   GET /ui             the page (HTML)
 *   GET /ui/page.css    its style, /ui/icon.svg its icon, /ui/<module>.js its scripts (all in the package)
 *   GET /ui/data        the JSON of live-view.ts (?points=SEQ&samples=SEQ: only what is newer)
 *   GET /ui/events      the same as server-sent events, one message every half second
 */
import { Router, type Request } from 'express';
import { CrimeError } from '../../errors.js';
import { header } from '../../http/body.js';
import { PAGE_CSS, PAGE_HTML, PAGE_ICON, PAGE_SCRIPTS, readScript } from './page.js';
import type { LiveCursor } from './browser/live-data.js';
import type { LiveView } from './live-view.js';
import type { LiveStreams } from './streams.js';

export const UI_PATHS = {
  page: '/ui',
  css: '/ui/page.css',
  icon: '/ui/icon.svg',
  data: '/ui/data',
  events: '/ui/events',
  scripts: PAGE_SCRIPTS.map((name) => `/ui/${name}`),
} as const;

/** The page loads nothing from anywhere else, and nothing may frame it. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

function cursorField(value: unknown, field: string): number {
  if (value === undefined) return 0;
  const n = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw new CrimeError('INVALID_INPUT', `${field}: a sequence number (a non-negative integer), not ${JSON.stringify(value)}`);
  return n;
}

/** ?points=&samples=, or an EventSource's Last-Event-ID "POINTS.SAMPLES" (ignored if malformed). */
function cursorOf(req: Request): LiveCursor {
  const last = header(req, 'last-event-id');
  const m = last === undefined ? null : /^(\d{1,15})\.(\d{1,15})$/.exec(last);
  if (m) return { points: Number(m[1]), samples: Number(m[2]) };
  return { points: cursorField(req.query.points, 'points'), samples: cursorField(req.query.samples, 'samples') };
}

export function uiRoutes(view: LiveView, streams: LiveStreams): Router {
  const router = Router();
  router.get(UI_PATHS.page, (_req, res) => {
    res.set(SECURITY_HEADERS).type('html').send(PAGE_HTML);
  });
  router.get(UI_PATHS.css, (_req, res) => {
    res.set(SECURITY_HEADERS).type('css').send(PAGE_CSS);
  });
  router.get(UI_PATHS.icon, (_req, res) => {
    res.set(SECURITY_HEADERS).type('image/svg+xml').send(PAGE_ICON);
  });
  for (const name of PAGE_SCRIPTS) {
    router.get(`/ui/${name}`, async (_req, res) => {
      res.set(SECURITY_HEADERS).type('text/javascript').send(await readScript(name));
    });
  }
  router.get(UI_PATHS.data, (req, res) => {
    res.set(SECURITY_HEADERS).json(view.data(cursorOf(req)));
  });
  router.get(UI_PATHS.events, (req, res) => {
    const cursor = cursorOf(req);
    res.set(SECURITY_HEADERS);
    streams.start(req, res, cursor);
  });
  return router;
}
