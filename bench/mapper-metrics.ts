/** What `crime bench mapping` reads from a mapper's /metrics: its pings and self-calibration so far. */
export interface MapperCounters {
  /** pings answered, by neighbour */
  pingsOk: Record<string, number>;
  /** payload bytes of the pings sent, by neighbour */
  pingBytes: Record<string, number>;
  /** runtime time spent on self-calibration runs, s */
  selfCalibrationSeconds: number;
  /** self-calibration runs that completed */
  selfCalibrations: number;
}

export function parseMapperCounters(text: string): MapperCounters {
  const out: MapperCounters = { pingsOk: {}, pingBytes: {}, selfCalibrationSeconds: 0, selfCalibrations: 0 };
  for (const m of text.matchAll(/^crime_mapper_pings_total\{neighbour="([^"]+)",outcome="ok"\} (\S+)$/gm)) out.pingsOk[m[1] as string] = Number(m[2]);
  for (const m of text.matchAll(/^crime_mapper_ping_bytes_total\{neighbour="([^"]+)"\} (\S+)$/gm)) out.pingBytes[m[1] as string] = Number(m[2]);
  const cal = /^crime_mapper_self_calibration_seconds_total (\S+)$/m.exec(text);
  out.selfCalibrationSeconds = cal ? Number(cal[1]) : 0;
  const runs = /^crime_mapper_self_calibrations_total\{outcome="ok"\} (\S+)$/m.exec(text);
  out.selfCalibrations = runs ? Number(runs[1]) : 0;
  return out;
}

export async function mapperCounters(mapperUrl: string): Promise<MapperCounters> {
  const res = await fetch(`${mapperUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
  return parseMapperCounters(await res.text());
}

/** b − a, per key (a missing key counts 0). */
export function countsSince(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v - (a[k] ?? 0)]));
}
