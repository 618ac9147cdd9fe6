/**
 * The live page's markup, style and scripts. The scripts are TypeScript in ./browser, compiled
 * beside this file by the build (its own tsconfig, with the DOM's types); everything the page
 * needs is in the package, so it works with no network beyond the mapper's port.
 */
import { readFile } from 'node:fs/promises';
import { CrimeError } from '../../errors.js';

/** The page's script modules, as served under /ui/. */
export const PAGE_SCRIPTS = ['main.js', 'svg.js', 'charts.js', 'live-data.js'] as const;

const scripts = new Map<string, Promise<string>>();

/** A script of the page, read once from the build output. */
export function readScript(name: string): Promise<string> {
  let text = scripts.get(name);
  if (!text) {
    text = readFile(new URL(`./browser/${name}`, import.meta.url), 'utf8').catch((err: unknown) => {
      scripts.delete(name);
      throw new CrimeError('INTERNAL', `the page's script ${name} is missing from this build (npm run build makes it): ${(err as Error).message}`);
    });
    scripts.set(name, text);
  }
  return text;
}

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CRIME mapper</title>
<link rel="icon" href="/ui/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/ui/page.css">
<script type="module" src="/ui/main.js"></script>
</head>
<body>
<header>
  <h1>CRIME mapper <span id="device">…</span></h1>
  <p><span id="objective"></span> · <span id="status">connecting</span></p>
</header>
<main>
  <section class="wide">
    <h2>Where each request ran <small>time × input length, colour: serving device; ringed: after a fallback; ×: failed; dashed: crossover lengths</small></h2>
    <svg id="mapping" viewBox="0 0 960 320" role="img" aria-label="requests over time by input length"></svg>
  </section>
  <section>
    <h2>Learned cost per candidate <small id="unit"></small></h2>
    <svg id="curves" viewBox="0 0 470 260" role="img" aria-label="cost curves"></svg>
    <ul id="crossovers"></ul>
  </section>
  <section>
    <h2>Links <small>learned RTT (ms) and bandwidth (Mbit/s)</small></h2>
    <svg id="rtt" viewBox="0 0 470 125" role="img" aria-label="link RTT over time"></svg>
    <svg id="bandwidth" viewBox="0 0 470 125" role="img" aria-label="link bandwidth over time"></svg>
  </section>
  <section>
    <h2>Served by</h2>
    <table id="counts"><thead><tr><th>device</th><th>since start</th><th>on the figure</th></tr></thead><tbody></tbody></table>
  </section>
</main>
<footer>Read-only. The same numbers as JSON: <a href="/ui/data">/ui/data</a>.</footer>
</body>
</html>
`;

/** The tab's icon: three dots, one per tier (a page without one makes the browser ask for /favicon.ico). */
export const PAGE_ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="3" cy="12" r="2.5" fill="#1b9e77"/><circle cx="8" cy="8" r="2.5" fill="#d95f02"/><circle cx="13" cy="4" r="2.5" fill="#7570b3"/></svg>`;

export const PAGE_CSS = `
:root { font-family: system-ui, sans-serif; color: #222; background: #fafafa; }
body { margin: 0 auto; max-width: 1000px; padding: 0 12px; }
header h1 { font-size: 20px; margin: 12px 0 0; }
header p { margin: 2px 0 8px; color: #555; }
main { display: grid; grid-template-columns: 1fr 1fr; gap: 8px 16px; }
section { background: #fff; border: 1px solid #ddd; border-radius: 4px; padding: 6px 8px; }
section.wide { grid-column: 1 / 3; }
h2 { font-size: 14px; margin: 0 0 4px; }
h2 small { font-weight: normal; color: #666; }
svg { width: 100%; height: auto; display: block; }
svg text { font-size: 10px; }
svg text:not([fill]) { fill: #444; }
svg .axis { stroke: #999; stroke-width: 1; }
svg .grid { stroke: #eee; stroke-width: 1; }
svg .crossover { stroke: #000; stroke-width: 1.6; stroke-dasharray: 5 3; fill: none; }
svg .curve, svg .series { fill: none; stroke-width: 2; }
svg .fallback { stroke: #000; stroke-width: 1.2; }
svg .failed { stroke: #d00; stroke-width: 2; }
#crossovers { margin: 4px 0; padding-left: 18px; font-size: 13px; }
table { border-collapse: collapse; font-size: 13px; }
td, th { padding: 2px 10px 2px 0; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 6px; border-radius: 50%; }
footer { color: #666; font-size: 12px; margin: 8px 0 16px; }
#status.live { color: #1a7f37; }
#status.down { color: #b00; }
`;
