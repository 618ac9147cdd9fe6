/**
 * Names and labels of the objects rendered for a topology. Kubernetes limits what they can hold:
 * Service names are DNS-1035 labels (63 characters, a letter first), label values 63 characters;
 * a topology name may be a 253-character DNS subdomain. Long or dotted names are shortened with a
 * hash of the whole, so distinct topologies never share a name.
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

/** `text` when it is a DNS-1035 label (a letter first, at most 63 characters), else a valid label with a hash of it. */
export function dnsLabel(text: string): string {
  if (text.length <= 63 && /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(text)) return text;
  const s = text.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^[^a-z]+/, '');
  return `${(s.slice(0, 50).replace(/-+$/, '') || 'x')}-${hash8(text)}`;
}

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

export function childNames(topology: string): ChildNames {
  const device = (d: string): string => dnsLabel(`${topology}-${d}`);
  return { deployment: device, service: device, configMap: dnsLabel(`${topology}-mappers`), secret: dnsLabel(`${topology}-token`) };
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
