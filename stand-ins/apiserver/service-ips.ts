// What kube-apiserver's Service storage fills in (pkg/registry/core/service/storage alloc.go) for a
// single-stack IPv4 cluster with the default service CIDR 10.96.0.0/12 and node ports 30000-32767:
// clusterIP and clusterIPs (random, free, in range; "None" stays headless), ipFamilies and
// ipFamilyPolicy, internalTrafficPolicy, node ports and externalTrafficPolicy for NodePort and
// LoadBalancer, and an empty status.loadBalancer. Updates keep what was allocated.
import type { StatusCause } from "./errors.ts";
import { invalid } from "./errors.ts";
import type { Admission } from "./objects.ts";
import type { KubeObject, Store } from "./storage.ts";

type Obj = Record<string, unknown>;

const BASE = (10 << 24) | (96 << 16);
const SIZE = 1 << 20;
export const SERVICE_CIDR = "10.96.0.0/12";

const toIP = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");

function fromIP(ip: string): number | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

const needsClusterIP = (spec: Obj) => spec.type !== "ExternalName";
const needsNodePorts = (spec: Obj) => spec.type === "NodePort" || spec.type === "LoadBalancer";

/** Allocated cluster IPs and node ports, kept from store events. */
export class ServiceAllocations {
  private readonly store: Store;
  readonly ips = new Set<string>();
  readonly nodePorts = new Set<number>();
  private stopListening: () => void = () => {};

  constructor(store: Store) {
    this.store = store;
  }

  start(): void {
    for (const o of this.store.collection("/services").list()) this.add(o);
    this.stopListening = this.store.listen((c, e) => {
      if (c.name !== "/services") return;
      if (e.previous) this.remove(e.previous);
      if (e.type !== "DELETED") this.add(e.object);
    });
  }

  stop(): void {
    this.stopListening();
  }

  private each(o: KubeObject, f: (ip: string | undefined, port: number | undefined) => void): void {
    const spec = (o.spec ?? {}) as Obj;
    for (const ip of (spec.clusterIPs as string[] | undefined) ?? []) f(ip, undefined);
    for (const p of (spec.ports as Obj[] | undefined) ?? []) f(undefined, p.nodePort as number | undefined);
  }

  private add(o: KubeObject): void {
    this.each(o, (ip, port) => {
      if (ip) this.ips.add(ip);
      if (port) this.nodePorts.add(port);
    });
  }

  private remove(o: KubeObject): void {
    this.each(o, (ip, port) => {
      if (ip) this.ips.delete(ip);
      if (port) this.nodePorts.delete(port);
    });
  }
}

/** The allocation admission: fills a new Service's allocated fields, or refuses an unusable clusterIP. */
export function serviceAllocation(allocations: ServiceAllocations, random: () => number): Admission {
  return (t, o) => {
    if (!(t.group === "" && t.resource === "services")) return;
    const spec = (o.spec ?? {}) as Obj;
    o.spec = spec;
    const causes = allocate(spec, allocations, random);
    if (causes.length > 0) throw invalid("", "Service", o.metadata.name ?? "", causes);
    o.status = { loadBalancer: {} };
  };
}

function allocate(spec: Obj, a: ServiceAllocations, random: () => number): StatusCause[] {
  if (!needsClusterIP(spec)) return [];
  const requested =
    (spec.clusterIP as string | undefined) || (spec.clusterIPs as string[] | undefined)?.[0] || "";
  const headless = requested === "None";
  if (headless && Object.keys((spec.selector as Obj | undefined) ?? {}).length === 0) {
    spec.ipFamilyPolicy ??= "RequireDualStack";
  }
  spec.ipFamilyPolicy ??= "SingleStack";
  spec.ipFamilies ??= ["IPv4"];
  spec.internalTrafficPolicy ??= "Cluster";
  if (headless) {
    spec.clusterIP = "None";
    spec.clusterIPs = ["None"];
  } else if (requested) {
    const n = fromIP(requested);
    const why =
      n === undefined || n < BASE || n >= BASE + SIZE
        ? `provided IP is not in the valid range. The range of valid IPs is ${SERVICE_CIDR}`
        : a.ips.has(requested)
          ? "provided IP is already allocated"
          : undefined;
    if (why) {
      return [
        {
          reason: "FieldValueInvalid",
          message: `Invalid value: []string{"${requested}"}: failed to allocate IP ${requested}: ${why}`,
          field: "spec.clusterIPs",
        },
      ];
    }
    spec.clusterIP = requested;
    spec.clusterIPs = [requested];
  } else {
    let ip: string;
    // The network address and the first IP (the kubernetes Service's) are never handed out.
    do ip = toIP(BASE + 2 + Math.floor(random() * (SIZE - 3)));
    while (a.ips.has(ip));
    spec.clusterIP = ip;
    spec.clusterIPs = [ip];
  }
  if (needsNodePorts(spec)) {
    spec.externalTrafficPolicy ??= "Cluster";
    if (spec.type === "LoadBalancer") spec.allocateLoadBalancerNodePorts ??= true;
    const taken = new Set(a.nodePorts);
    for (const p of (spec.ports as Obj[] | undefined) ?? []) {
      if (p.nodePort) continue;
      let port: number;
      do port = 30000 + Math.floor(random() * 2768);
      while (taken.has(port));
      taken.add(port);
      p.nodePort = port;
    }
  }
  return [];
}

/** patchAllocatedValues: an update that leaves allocated fields out keeps them. */
export function keepAllocatedServiceFields(o: KubeObject, old: KubeObject): void {
  const spec = (o.spec ?? {}) as Obj;
  const before = (old.spec ?? {}) as Obj;
  if (!needsClusterIP(spec) || !needsClusterIP(before)) return;
  if (!spec.clusterIP && !spec.clusterIPs) {
    spec.clusterIP = before.clusterIP;
    spec.clusterIPs = before.clusterIPs;
  }
  spec.ipFamilies ??= before.ipFamilies;
  spec.ipFamilyPolicy ??= before.ipFamilyPolicy;
  if (needsNodePorts(spec) && needsNodePorts(before)) {
    const oldPorts = (before.ports as Obj[] | undefined) ?? [];
    for (const p of (spec.ports as Obj[] | undefined) ?? []) {
      if (p.nodePort) continue;
      const match = oldPorts.find(
        (q) => q.port === p.port && (q.protocol ?? "TCP") === (p.protocol ?? "TCP"),
      );
      if (match?.nodePort) p.nodePort = match.nodePort;
    }
  }
}

/** ValidateServiceUpdate: the cluster IP may not change once set. */
export function clusterIPUpdateCauses(o: KubeObject, old: KubeObject | undefined): StatusCause[] {
  if (!old) return [];
  const spec = (o.spec ?? {}) as Obj;
  const before = (old.spec ?? {}) as Obj;
  if (!needsClusterIP(spec) || !needsClusterIP(before)) return [];
  const now = (spec.clusterIPs as string[] | undefined)?.[0];
  const was = (before.clusterIPs as string[] | undefined)?.[0];
  if (!was || now === was) return [];
  return [
    {
      reason: "FieldValueInvalid",
      message: `Invalid value: "${now ?? ""}": may not change once set`,
      field: "spec.clusterIPs[0]",
    },
  ];
}
