/**
 * Services without kube-proxy or cluster DNS: for every (runner node, Service) an address on the
 * host's loopback where a user-space link emulator (the one `crime up` uses) listens for each
 * Service port and forwards to a ready pod the Service selects, shaped like the link between the
 * two nodes. Endpoints come from the pods themselves, not EndpointSlices: the API refuses
 * link-local addresses in EndpointSlices, and pod IPs here are link-local so nothing can leave the
 * machine. Pods find it by name through their /etc/hosts, which the runner writes as the kubelet
 * writes a pod's hosts file. Production code resolves Service names as usual.
 *
 * The emulator listens on a port the kernel picks, never the Service's own port, and each pod's
 * namespace rewrites `address:servicePort` to it (DNAT, as kube-proxy rewrites a ClusterIP): a
 * process on the host that holds the Service's port on every address (`crime operator` serves its
 * metrics on 0.0.0.0:8080, the mappers' port) can then not take a Service away from the pods.
 */
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import type { Logger } from '../../runtime/log.js';
import { LinkEmulator, type LinkConditions, type LinkEndpoint } from '../../local/link-emulator.js';
import { addHostAddress, removeHostAddress, serviceIP, type ServiceView } from './netns.js';

interface Endpoint extends LinkEndpoint {
  node: string | undefined;
}

interface Proxy {
  ip: string;
  names: string[];
  /** the Service's ports as they were when the proxy was made (a change makes a new proxy) */
  ports: string;
  /** per Service port: its number and the emulator that serves it */
  links: Array<{ port: number; link: LinkEmulator }>;
  /** ready endpoints per Service port name */
  endpoints: Map<string, Endpoint[]>;
  next: number;
}


export interface ServiceProxiesOptions {
  /** the link between the node of a client pod and the node of the endpoint it reaches */
  linkBetween: (from: string, to: string | undefined) => LinkConditions;
  logger: Logger;
}

const serviceKey = (s: { metadata?: { namespace?: string; name?: string } }): string => `${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}`;
const portsOf = (svc: V1Service): string => JSON.stringify((svc.spec?.ports ?? []).map((p) => [p.name ?? '', p.port, p.protocol ?? 'TCP']));

/** Ready, running pods the Service selects, per Service port name, with the target port resolved. */
export function endpointsOf(svc: V1Service, pods: readonly V1Pod[]): Map<string, Endpoint[]> {
  const selector = svc.spec?.selector ?? {};
  const selected = pods.filter(
    (p) =>
      p.metadata?.namespace === svc.metadata?.namespace &&
      Object.keys(selector).length > 0 &&
      Object.entries(selector).every(([k, v]) => p.metadata?.labels?.[k] === v) &&
      !p.metadata?.deletionTimestamp &&
      p.status?.podIP &&
      p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  );
  const out = new Map<string, Endpoint[]>();
  for (const port of svc.spec?.ports ?? []) {
    const list: Endpoint[] = [];
    for (const p of selected) {
      const target = port.targetPort ?? port.port;
      const number = typeof target === 'number' ? target : p.spec?.containers.flatMap((c) => c.ports ?? []).find((cp) => cp.name === target)?.containerPort;
      if (number !== undefined) list.push({ host: p.status?.podIP as string, port: number, node: p.spec?.nodeName });
    }
    out.set(port.name ?? '', list);
  }
  return out;
}

export class ServiceProxies {
  private readonly proxies = new Map<string, Proxy>();
  private allocated = 0;
  private readonly free: string[] = [];

  constructor(private readonly o: ServiceProxiesOptions & { slot: number }) {}

  /**
   * Makes the proxies match the Services and their ready pods for every runner node. A proxy that
   * cannot be made is reported and tried again on the next sync; the others go ahead.
   */
  async sync(nodes: readonly string[], services: readonly V1Service[], pods: readonly V1Pod[]): Promise<void> {
    const wanted = new Set<string>();
    for (const node of nodes) {
      for (const svc of services) {
        if (svc.spec?.type === 'ExternalName' || !svc.spec?.ports?.length) continue;
        const key = `${node}|${serviceKey(svc)}`;
        wanted.add(key);
        let proxy = this.proxies.get(key);
        if (proxy && proxy.ports !== portsOf(svc)) {
          this.proxies.delete(key);
          await this.remove(proxy);
          proxy = undefined;
        }
        if (!proxy) {
          try {
            proxy = await this.create(node, svc);
          } catch (err) {
            this.o.logger.warn('service proxy failed, retried on the next change', { node, service: serviceKey(svc), error: (err as Error).message });
            continue;
          }
          this.proxies.set(key, proxy);
        }
        proxy.endpoints = endpointsOf(svc, pods);
        this.shape(node, proxy);
      }
    }
    for (const [key, proxy] of [...this.proxies]) {
      if (wanted.has(key)) continue;
      this.proxies.delete(key);
      await this.remove(proxy);
    }
  }

  /** Applies linkBetween again to every proxy: after the links changed (DevCluster.setLink), open connections included. */
  relink(): void {
    for (const [key, proxy] of this.proxies) this.shape(key.split('|')[0] as string, proxy);
  }

  /** Shapes a proxy like the link from its node to the node of its (first) endpoint. */
  private shape(node: string, proxy: Proxy): void {
    const first = [...proxy.endpoints.values()].flat()[0];
    const link = this.o.linkBetween(node, first?.node);
    for (const l of proxy.links) l.link.set(link);
  }

  private async remove(proxy: Proxy): Promise<void> {
    await Promise.all(proxy.links.map((l) => l.link.close()));
    await removeHostAddress(proxy.ip);
    this.free.push(proxy.ip);
  }

  private async create(node: string, svc: V1Service): Promise<Proxy> {
    const ip = this.free.shift() ?? serviceIP(this.o.slot, this.allocated++);
    const ns = svc.metadata?.namespace ?? 'default';
    const name = svc.metadata?.name ?? '';
    const proxy: Proxy = { ip, names: [`${name}.${ns}.svc.cluster.local`, `${name}.${ns}.svc`, `${name}.${ns}`], ports: portsOf(svc), links: [], endpoints: new Map(), next: 0 };
    try {
      await addHostAddress(ip);
      for (const port of svc.spec?.ports ?? []) {
        const pick = (): LinkEndpoint | undefined => {
          const list = proxy.endpoints.get(port.name ?? '') ?? [];
          if (list.length === 0) return undefined;
          return list[proxy.next++ % list.length];
        };
        // Port 0: the kernel picks one free on this address; pods reach it through their DNAT.
        proxy.links.push({ port: port.port, link: await LinkEmulator.start({ target: pick, listen: { host: ip, port: 0 }, ...this.o.linkBetween(node, undefined) }) });
      }
    } catch (err) {
      await this.remove(proxy);
      throw err;
    }
    this.o.logger.debug('service proxy up', { node, service: `${ns}/${name}`, ip });
    return proxy;
  }

  /** What a pod on `node` in `namespace` sees: short names for its own namespace, and the port rewrites. */
  viewFor(node: string, namespace: string): ServiceView {
    const view: ServiceView = { hosts: [], forwards: [] };
    for (const [key, proxy] of this.proxies) {
      const [proxyNode, svc] = key.split('|') as [string, string];
      if (proxyNode !== node) continue;
      const [ns, name] = svc.split('/') as [string, string];
      view.hosts.push({ ip: proxy.ip, names: ns === namespace ? [name, ...proxy.names] : proxy.names });
      for (const l of proxy.links) view.forwards.push({ ip: proxy.ip, port: l.port, to: l.link.port });
    }
    return view;
  }

  async close(): Promise<void> {
    for (const proxy of this.proxies.values()) await this.remove(proxy);
    this.proxies.clear();
  }
}
