import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countsSince, parseMapperCounters } from './mapper-metrics.js';

test('parseMapperCounters reads the pings and self-calibration runs the bench charges to the entry', () => {
  const text = [
    '# HELP crime_mapper_pings_total Pings',
    'crime_mapper_pings_total{neighbour="gateway",outcome="ok"} 12',
    'crime_mapper_pings_total{neighbour="gateway",outcome="TIMEOUT"} 3',
    'crime_mapper_ping_bytes_total{neighbour="gateway"} 4096',
    'crime_mapper_self_calibrations_total{outcome="ok"} 4',
    'crime_mapper_self_calibrations_total{outcome="BACKEND_FAILED"} 1',
    'crime_mapper_self_calibration_seconds_total 0.25',
  ].join('\n');
  assert.deepEqual(parseMapperCounters(text), { pingsOk: { gateway: 12 }, pingBytes: { gateway: 4096 }, selfCalibrationSeconds: 0.25, selfCalibrations: 4 });
  assert.deepEqual(parseMapperCounters(''), { pingsOk: {}, pingBytes: {}, selfCalibrationSeconds: 0, selfCalibrations: 0 });
  assert.deepEqual(countsSince({ gateway: 2 }, { gateway: 12, cloud: 1 }), { gateway: 10, cloud: 1 });
});
