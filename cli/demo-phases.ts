/**
 * What `crime demo` and `crime demo --cluster` both do once the three-tier example serves: a load
 * of reviews of mixed lengths to the entry, the gateway-to-cloud link made 10x slower, the same
 * load again, a served-by table after each. Only how the link is changed differs.
 */
import type { CliIo } from './command.js';
import { progressBar } from './progress.js';

export interface DemoTarget {
  entryUrl: string;
  /** makes the gateway → cloud link's RTT `rttMs` (the emulated link: crime up's control API, or the pod runner's) */
  setCloudLinkRtt(rttMs: number): Promise<void>;
}

export interface DemoPhaseOptions {
  count: number;
  rate: number;
  /** called after the first table is printed */
  onFirstTable?: () => void;
}

/** The gateway → cloud RTT of the examples (three-tier.local.yaml, devcluster/network.ts) and the slowed one. */
export const CLOUD_RTT_MS = { normal: 30, slow: 300 } as const;

/** Runs both phases, printing their reports; returns how many requests failed. */
export async function runDemoPhases(io: CliIo, target: DemoTarget, o: DemoPhaseOptions): Promise<number> {
  const [{ runLoad, formatLoadReport }, { parseLengthSpec }] = await Promise.all([import('../load/load.js'), import('../stats/lengths.js')]);
  const lengths = parseLengthSpec('lognormal:median=60,sigma=1.1,max=1000', 1000);
  let failed = 0;
  const phase = async (title: string): Promise<void> => {
    io.stdout.write(`\n== ${title}\n`);
    const bar = progressBar(io.stderr);
    const report = await runLoad({ url: target.entryUrl, lengths, rate: o.rate, count: o.count, onResult: (_r, done) => bar.update(done / o.count, `${done}/${o.count}`) });
    bar.done();
    failed += report.failed;
    io.stdout.write(formatLoadReport(report));
  };
  await phase(`gateway -> cloud RTT ${CLOUD_RTT_MS.normal} ms: short reviews stay on the end node, long ones leave it`);
  o.onFirstTable?.();
  await target.setCloudLinkRtt(CLOUD_RTT_MS.slow);
  await phase(`gateway -> cloud RTT ${CLOUD_RTT_MS.slow} ms: the cloud is not worth it any more`);
  return failed;
}
