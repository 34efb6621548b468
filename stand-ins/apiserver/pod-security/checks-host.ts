// Baseline checks of what a pod shares with its node: Windows hostProcess, the host's network, PID and
// IPC namespaces, hostPath volumes, host ports, and probe or lifecycle handlers aimed at another host.
import { ALLOWED, type Check, containersPhrase, refuse } from "./check.ts";
import { joinQuote, pluralize, sortedSet } from "./go-text.ts";
import { allContainers, type Container, containerName, type Handler, type PodSpec } from "./pod-spec.ts";

function windowsHostProcess(_: unknown, spec: PodSpec) {
  const bad = allContainers(spec)
    .filter((c) => c.securityContext?.windowsOptions?.hostProcess === true)
    .map(containerName);
  const setters: string[] = [];
  if (spec.securityContext?.windowsOptions?.hostProcess === true) setters.push("pod");
  if (bad.length > 0) setters.push(containersPhrase(bad));
  if (setters.length === 0) return ALLOWED;
  return refuse(
    "hostProcess",
    `${setters.join(" and ")} must not set securityContext.windowsOptions.hostProcess=true`,
  );
}

function hostNamespaces(_: unknown, spec: PodSpec) {
  const shared: string[] = [];
  if (spec.hostNetwork === true) shared.push("hostNetwork=true");
  if (spec.hostPID === true) shared.push("hostPID=true");
  if (spec.hostIPC === true) shared.push("hostIPC=true");
  return shared.length === 0 ? ALLOWED : refuse("host namespaces", shared.join(", "));
}

function hostPathVolumes(_: unknown, spec: PodSpec) {
  const names = (spec.volumes ?? []).filter((v) => v.hostPath != null).map((v) => v.name ?? "");
  if (names.length === 0) return ALLOWED;
  return refuse("hostPath volumes", `${pluralize("volume", "volumes", names.length)} ${joinQuote(names)}`);
}

function hostPorts(_: unknown, spec: PodSpec) {
  const bad: string[] = [];
  const ports: string[] = [];
  for (const c of allContainers(spec)) {
    const used = (c.ports ?? []).filter((p) => (p.hostPort ?? 0) !== 0).map((p) => String(p.hostPort));
    if (used.length === 0) continue;
    bad.push(containerName(c));
    ports.push(...used);
  }
  if (bad.length === 0) return ALLOWED;
  const sorted = sortedSet(ports);
  return refuse(
    "hostPort",
    `${containersPhrase(bad)} ${pluralize("uses", "use", bad.length)} ${pluralize("hostPort", "hostPorts", sorted.length)} ${sorted.join(", ")}`,
  );
}

function handlerHosts(h: Handler | null | undefined): string[] {
  if (!h) return [];
  const hosts: string[] = [];
  if (h.httpGet?.host) hosts.push(h.httpGet.host);
  if (h.tcpSocket?.host) hosts.push(h.tcpSocket.host);
  return hosts;
}

function containerHosts(c: Container): string[] {
  return [
    ...handlerHosts(c.livenessProbe),
    ...handlerHosts(c.readinessProbe),
    ...handlerHosts(c.startupProbe),
    ...handlerHosts(c.lifecycle?.postStart),
    ...handlerHosts(c.lifecycle?.preStop),
  ];
}

function hostProbesAndHostLifecycle(_: unknown, spec: PodSpec) {
  const bad: string[] = [];
  const hosts: string[] = [];
  for (const c of allContainers(spec)) {
    const found = containerHosts(c);
    if (found.length === 0) continue;
    bad.push(containerName(c));
    hosts.push(...found);
  }
  if (bad.length === 0) return ALLOWED;
  const containers = sortedSet(bad);
  const sorted = sortedSet(hosts);
  return refuse(
    "probe or lifecycle host",
    `${pluralize("container", "containers", containers.length)} ${joinQuote(containers)} ${pluralize("uses", "use", containers.length)} ${pluralize("probe or lifecycle host", "probe or lifecycle hosts", sorted.length)} ${joinQuote(sorted)}`,
  );
}

export const HOST_CHECKS: Check[] = [
  {
    id: "windowsHostProcess",
    level: "baseline",
    versions: [{ minimumVersion: 0, checkPod: windowsHostProcess }],
  },
  { id: "hostNamespaces", level: "baseline", versions: [{ minimumVersion: 0, checkPod: hostNamespaces }] },
  { id: "hostPathVolumes", level: "baseline", versions: [{ minimumVersion: 0, checkPod: hostPathVolumes }] },
  { id: "hostPorts", level: "baseline", versions: [{ minimumVersion: 0, checkPod: hostPorts }] },
  {
    id: "hostProbesAndHostLifecycle",
    level: "baseline",
    versions: [{ minimumVersion: 34, checkPod: hostProbesAndHostLifecycle }],
  },
];
