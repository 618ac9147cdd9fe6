/**
 * Where the tests' browser is: $CRIME_CHROMIUM (scripts/run-tests.mjs sets it from
 * scripts/setup-chromium, which installs Debian's chromium when it can), else the first Chromium on
 * the PATH. Undefined when there is none: browser tests then skip, saying why.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const NAMES = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'];

export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.CRIME_CHROMIUM) return env.CRIME_CHROMIUM;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    for (const name of NAMES) {
      const path = join(dir, name);
      try {
        accessSync(path, constants.X_OK);
        return path;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

export const NO_CHROMIUM = 'no Chromium: scripts/setup-chromium installs it (as root, from the distribution), or set CRIME_CHROMIUM';
