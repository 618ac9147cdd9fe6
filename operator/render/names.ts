/**
 * Names and labels of the objects rendered for a topology. A device's Deployment and Service are
 * `<topology>--<device>`: a topology name holds no "--" (the CRD and parseTopology refuse it), so the
 * first "--" of a child's name ends the topology's and no two (topology, device) pairs share one
 * (before, `<topology>-<device>` gave topology `a-b` device `c` and topology `a` device `b-c` the same
 * name). The parser also keeps topology and device names short enough for the result to be a
 * DNS-1035 label of at most 63 characters, as a Service name must be. The topology's own objects
 * are `<topology>-mappers` (ConfigMap), `<topology>-token` (Secret) and `<topology>-peers`,
 * `<topology>-entry` (NetworkPolicies): one name per topology in each kind, so distinct too.
 */
import { createHash } from 'node:crypto';

export const FIELD_MANAGER = 'crime-operator';

export const LABELS = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  component: 'app.kubernetes.io/component',
  managedBy: 'app.kubernetes.io/managed-by',
  topology: 'crime.dev/topology',
  device: 'crime.dev/device',
} as const;

/** Selects everything the operator renders (its informers watch only these). */
export const MANAGED_SELECTOR = `${LABELS.managedBy}=${FIELD_MANAGER}`;

const hash8 = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 8);

/** A label value: the text itself when it fits, else a shortened, hashed form. */
export function labelValue(text: string): string {
  return text.length <= 63 ? text : `${text.slice(0, 54).replace(/[-_.]+$/, '')}-${hash8(text)}`;
}

export interface ChildNames {
  deployment: (device: string) => string;
  service: (device: string) => string;
  configMap: string;
  secret: string;
}

/** The separator of topology and device in a child's name; it never occurs in a topology's name. */
export const DEVICE_SEPARATOR = '--';

export function childNames(topology: string): ChildNames {
  const device = (d: string): string => `${topology}${DEVICE_SEPARATOR}${d}`;
  return { deployment: device, service: device, configMap: `${topology}-mappers`, secret: `${topology}-token` };
}

/** Labels every object of a topology carries; `device` adds the device's own. */
export function labelsFor(topology: string, device?: string): Record<string, string> {
  return {
    [LABELS.name]: 'crime',
    [LABELS.instance]: labelValue(topology),
    [LABELS.managedBy]: FIELD_MANAGER,
    [LABELS.topology]: labelValue(topology),
    ...(device === undefined ? {} : { [LABELS.component]: 'device', [LABELS.device]: device }),
  };
}

/** The pod selector of a device's Deployment and Service (stable: never add to it). */
export function selectorFor(topology: string, device: string): Record<string, string> {
  return { [LABELS.topology]: labelValue(topology), [LABELS.device]: device };
}
