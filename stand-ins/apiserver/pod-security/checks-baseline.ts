// Baseline checks of a container's own privileges: privileged, added capabilities beyond the runtime's
// default set, AppArmor, SELinux, /proc mount, seccomp and sysctls. Each revision is kube's, with the
// version it first applies to.
import { ALLOWED, type Check, type CheckPod, containersPhrase, refuse } from "./check.ts";
import { byteOrder, goQuote, joinQuote, pluralize, sortedSet } from "./go-text.ts";
import {
  allContainers,
  containerName,
  type PodMetadata,
  type PodSpec,
  type SELinuxOptions,
} from "./pod-spec.ts";

function privileged(_: PodMetadata, spec: PodSpec) {
  const bad = allContainers(spec)
    .filter((c) => c.securityContext?.privileged === true)
    .map(containerName);
  if (bad.length === 0) return ALLOWED;
  return refuse("privileged", `${containersPhrase(bad)} must not set securityContext.privileged=true`);
}

const DEFAULT_CAPABILITIES = new Set([
  "AUDIT_WRITE",
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "MKNOD",
  "NET_BIND_SERVICE",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
]);

function capabilitiesBaseline(_: PodMetadata, spec: PodSpec) {
  const bad: string[] = [];
  const added: string[] = [];
  for (const c of allContainers(spec)) {
    const extra = (c.securityContext?.capabilities?.add ?? []).filter(
      (cap) => !DEFAULT_CAPABILITIES.has(cap),
    );
    if (extra.length === 0) continue;
    bad.push(containerName(c));
    added.push(...extra);
  }
  if (bad.length === 0) return ALLOWED;
  return refuse(
    "non-default capabilities",
    `${containersPhrase(bad)} must not include ${joinQuote(sortedSet(added))} in securityContext.capabilities.add`,
  );
}

const APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/";

function appArmorProfile(metadata: PodMetadata, spec: PodSpec) {
  const allowedType = (t: string | undefined) => t === "RuntimeDefault" || t === "Localhost";
  const setters: string[] = [];
  const values: string[] = [];
  const podProfile = spec.securityContext?.appArmorProfile;
  if (podProfile && !allowedType(podProfile.type)) {
    setters.push("pod");
    values.push(podProfile.type ?? "");
  }
  const bad: string[] = [];
  for (const c of allContainers(spec)) {
    const profile = c.securityContext?.appArmorProfile;
    if (profile && !allowedType(profile.type)) {
      bad.push(containerName(c));
      values.push(profile.type ?? "");
    }
  }
  if (bad.length > 0) setters.push(containersPhrase(bad));
  const annotations = Object.entries(metadata.annotations ?? {})
    .filter(
      ([k, v]) =>
        k.startsWith(APPARMOR_ANNOTATION_PREFIX) &&
        !(v === "" || v === "runtime/default" || v.startsWith("localhost/")),
    )
    .map(([k, v]) => `${k}=${goQuote(v)}`)
    .sort(byteOrder);
  const listed = [...sortedSet(values), ...annotations];
  if (annotations.length > 0) setters.push(pluralize("annotation", "annotations", annotations.length));
  if (setters.length === 0) return ALLOWED;
  return refuse(
    pluralize("forbidden AppArmor profile", "forbidden AppArmor profiles", listed.length),
    `${setters.join(" and ")} must not set AppArmor profile type to ${joinQuote(listed)}`,
  );
}

function seLinuxOptions(allowedTypes: Set<string>): CheckPod {
  return (_, spec) => {
    const badTypes: string[] = [];
    let setUser = false;
    let setRole = false;
    const valid = (o: SELinuxOptions) => {
      let ok = true;
      if (!allowedTypes.has(o.type ?? "")) {
        ok = false;
        badTypes.push(o.type ?? "");
      }
      if (o.user) {
        ok = false;
        setUser = true;
      }
      if (o.role) {
        ok = false;
        setRole = true;
      }
      return ok;
    };
    const setters: string[] = [];
    const podOptions = spec.securityContext?.seLinuxOptions;
    if (podOptions && !valid(podOptions)) setters.push("pod");
    const bad = allContainers(spec)
      .filter((c) => {
        const o = c.securityContext?.seLinuxOptions;
        return o ? !valid(o) : false;
      })
      .map(containerName);
    if (bad.length > 0) setters.push(containersPhrase(bad));
    if (setters.length === 0) return ALLOWED;
    const what: string[] = [];
    const types = sortedSet(badTypes);
    if (types.length > 0) what.push(`${pluralize("type", "types", types.length)} ${joinQuote(types)}`);
    if (setUser) what.push("user may not be set");
    if (setRole) what.push("role may not be set");
    return refuse(
      "seLinuxOptions",
      `${setters.join(" and ")} set forbidden securityContext.seLinuxOptions: ${what.join("; ")}`,
    );
  };
}

const SELINUX_TYPES_1_0 = ["", "container_t", "container_init_t", "container_kvm_t"];

function procMount(_: PodMetadata, spec: PodSpec) {
  // kube relaxes this for user-namespace pods only behind the alpha UserNamespacesPodSecurityStandards gate.
  const bad: string[] = [];
  const types: string[] = [];
  for (const c of allContainers(spec)) {
    const mount = c.securityContext?.procMount;
    if (mount == null || mount === "Default") continue;
    bad.push(containerName(c));
    types.push(mount);
  }
  if (bad.length === 0) return ALLOWED;
  return refuse(
    "procMount",
    `${containersPhrase(bad)} must not set securityContext.procMount to ${joinQuote(sortedSet(types))}`,
  );
}

const SECCOMP_POD_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_CONTAINER_ANNOTATION_PREFIX = "container.seccomp.security.alpha.kubernetes.io/";

/** Before v1.19 seccomp was set with annotations. */
function seccompBaselineAnnotations(metadata: PodMetadata, spec: PodSpec) {
  const annotations = metadata.annotations ?? {};
  const valid = (v: string) =>
    v === "runtime/default" || v === "docker/default" || v.startsWith("localhost/");
  const forbidden: string[] = [];
  const check = (key: string) => {
    if (Object.hasOwn(annotations, key) && !valid(annotations[key]!))
      forbidden.push(`${key}=${goQuote(annotations[key]!)}`);
  };
  check(SECCOMP_POD_ANNOTATION);
  for (const c of allContainers(spec)) check(SECCOMP_CONTAINER_ANNOTATION_PREFIX + containerName(c));
  const sorted = sortedSet(forbidden);
  if (sorted.length === 0) return ALLOWED;
  return refuse(
    "seccompProfile",
    `forbidden ${pluralize("annotation", "annotations", sorted.length)} ${sorted.join(", ")}`,
  );
}

export function validSeccompType(t: string | undefined): boolean {
  return t === "RuntimeDefault" || t === "Localhost";
}

function seccompBaseline(_: PodMetadata, spec: PodSpec) {
  const setters: string[] = [];
  const values: string[] = [];
  const podProfile = spec.securityContext?.seccompProfile;
  if (podProfile && !validSeccompType(podProfile.type)) {
    setters.push("pod");
    values.push(podProfile.type ?? "");
  }
  const bad: string[] = [];
  for (const c of allContainers(spec)) {
    const profile = c.securityContext?.seccompProfile;
    if (profile && !validSeccompType(profile.type)) {
      bad.push(containerName(c));
      values.push(profile.type ?? "");
    }
  }
  if (bad.length > 0) setters.push(containersPhrase(bad));
  if (setters.length === 0) return ALLOWED;
  return refuse(
    "seccompProfile",
    `${setters.join(" and ")} must not set securityContext.seccompProfile.type to ${joinQuote(sortedSet(values))}`,
  );
}

const SYSCTLS_1_0 = [
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_unprivileged_port_start",
];
const SYSCTLS_1_27 = [...SYSCTLS_1_0, "net.ipv4.ip_local_reserved_ports"];
const SYSCTLS_1_29 = [
  ...SYSCTLS_1_27,
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
];
const SYSCTLS_1_32 = [...SYSCTLS_1_29, "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"];

function sysctls(allowed: string[]): CheckPod {
  const safe = new Set(allowed);
  return (_, spec) => {
    const forbidden = (spec.securityContext?.sysctls ?? [])
      .map((s) => s.name ?? "")
      .filter((name) => !safe.has(name));
    return forbidden.length === 0 ? ALLOWED : refuse("forbidden sysctls", forbidden.join(", "));
  };
}

export const BASELINE_CHECKS: Check[] = [
  { id: "privileged", level: "baseline", versions: [{ minimumVersion: 0, checkPod: privileged }] },
  {
    id: "capabilities_baseline",
    level: "baseline",
    versions: [{ minimumVersion: 0, checkPod: capabilitiesBaseline }],
  },
  { id: "appArmorProfile", level: "baseline", versions: [{ minimumVersion: 0, checkPod: appArmorProfile }] },
  {
    id: "seLinuxOptions",
    level: "baseline",
    versions: [
      { minimumVersion: 0, checkPod: seLinuxOptions(new Set(SELINUX_TYPES_1_0)) },
      { minimumVersion: 31, checkPod: seLinuxOptions(new Set([...SELINUX_TYPES_1_0, "container_engine_t"])) },
    ],
  },
  { id: "procMount", level: "baseline", versions: [{ minimumVersion: 0, checkPod: procMount }] },
  {
    id: "seccompProfile_baseline",
    level: "baseline",
    versions: [
      { minimumVersion: 0, checkPod: seccompBaselineAnnotations },
      { minimumVersion: 19, checkPod: seccompBaseline },
    ],
  },
  {
    id: "sysctls",
    level: "baseline",
    versions: [
      { minimumVersion: 0, checkPod: sysctls(SYSCTLS_1_0) },
      { minimumVersion: 27, checkPod: sysctls(SYSCTLS_1_27) },
      { minimumVersion: 29, checkPod: sysctls(SYSCTLS_1_29) },
      { minimumVersion: 32, checkPod: sysctls(SYSCTLS_1_32) },
    ],
  },
];
