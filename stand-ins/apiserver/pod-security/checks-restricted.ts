// Restricted checks: volume types, no privilege escalation, non-root, no uid 0, a seccomp profile, and
// capabilities dropped to ALL (NET_BIND_SERVICE may come back). Three of them exempt Windows pods from
// v1.25 on; restricted volumes, seccomp and capabilities replace their baseline counterparts.
import { ALLOWED, type Check, type CheckPod, containersPhrase, refuse } from "./check.ts";
import { validSeccompType } from "./checks-baseline.ts";
import { joinQuote, pluralize, sortedSet } from "./go-text.ts";
import { allContainers, containerName, isWindows, type PodSpec, type Volume } from "./pod-spec.ts";

const ALLOWED_VOLUME_SOURCES = [
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "image",
  "persistentVolumeClaim",
  "projected",
  "secret",
];
// The order kube names a refused volume's type in.
const RESTRICTED_VOLUME_SOURCES = [
  "hostPath",
  "gcePersistentDisk",
  "awsElasticBlockStore",
  "gitRepo",
  "nfs",
  "iscsi",
  "glusterfs",
  "rbd",
  "flexVolume",
  "cinder",
  "cephfs",
  "flocker",
  "fc",
  "azureFile",
  "vsphereVolume",
  "quobyte",
  "azureDisk",
  "photonPersistentDisk",
  "portworxVolume",
  "scaleIO",
  "storageos",
];

const has = (v: Volume, source: string) => v[source] != null;

function restrictedVolumes(_: unknown, spec: PodSpec) {
  const bad: string[] = [];
  const types: string[] = [];
  for (const v of spec.volumes ?? []) {
    if (ALLOWED_VOLUME_SOURCES.some((s) => has(v, s))) continue;
    bad.push(v.name ?? "");
    types.push(RESTRICTED_VOLUME_SOURCES.find((s) => has(v, s)) ?? "unknown");
  }
  if (bad.length === 0) return ALLOWED;
  const sorted = sortedSet(types);
  return refuse(
    "restricted volume types",
    `${pluralize("volume", "volumes", bad.length)} ${joinQuote(bad)} ${pluralize("uses", "use", bad.length)} ${pluralize("restricted volume type", "restricted volume types", sorted.length)} ${joinQuote(sorted)}`,
  );
}

/** From v1.25 a Windows pod (spec.os.name=windows) passes. */
function exceptWindows(check: CheckPod): CheckPod {
  return (metadata, spec) => (isWindows(spec) ? ALLOWED : check(metadata, spec));
}

function allowPrivilegeEscalation(_: unknown, spec: PodSpec) {
  const bad = allContainers(spec)
    .filter((c) => c.securityContext?.allowPrivilegeEscalation !== false)
    .map(containerName);
  if (bad.length === 0) return ALLOWED;
  return refuse(
    "allowPrivilegeEscalation != false",
    `${containersPhrase(bad)} must set securityContext.allowPrivilegeEscalation=false`,
  );
}

function runAsNonRoot(_: unknown, spec: PodSpec) {
  // kube relaxes this for user-namespace pods only behind the alpha UserNamespacesPodSecurityStandards gate.
  const setters: string[] = [];
  const pod = spec.securityContext?.runAsNonRoot;
  if (pod === false) setters.push("pod");
  const explicit: string[] = [];
  const implicit: string[] = [];
  for (const c of allContainers(spec)) {
    const own = c.securityContext?.runAsNonRoot;
    if (own != null) {
      if (!own) explicit.push(containerName(c));
    } else if (pod !== true) implicit.push(containerName(c));
  }
  if (explicit.length > 0) setters.push(containersPhrase(explicit));
  if (setters.length > 0)
    return refuse(
      "runAsNonRoot != true",
      `${setters.join(" and ")} must not set securityContext.runAsNonRoot=false`,
    );
  if (implicit.length > 0)
    return refuse(
      "runAsNonRoot != true",
      `pod or ${containersPhrase(implicit)} must set securityContext.runAsNonRoot=true`,
    );
  return ALLOWED;
}

function runAsUser(_: unknown, spec: PodSpec) {
  const setters: string[] = [];
  if (spec.securityContext?.runAsUser === 0) setters.push("pod");
  const bad = allContainers(spec)
    .filter((c) => c.securityContext?.runAsUser === 0)
    .map(containerName);
  if (bad.length > 0) setters.push(containersPhrase(bad));
  if (setters.length === 0) return ALLOWED;
  return refuse("runAsUser=0", `${setters.join(" and ")} must not set runAsUser=0`);
}

function seccompRestricted(_: unknown, spec: PodSpec) {
  const setters: string[] = [];
  const values: string[] = [];
  let podSet = false;
  const podProfile = spec.securityContext?.seccompProfile;
  if (podProfile) {
    if (validSeccompType(podProfile.type)) podSet = true;
    else {
      setters.push("pod");
      values.push(podProfile.type ?? "");
    }
  }
  const explicit: string[] = [];
  const implicit: string[] = [];
  for (const c of allContainers(spec)) {
    const profile = c.securityContext?.seccompProfile;
    if (profile) {
      if (!validSeccompType(profile.type)) {
        explicit.push(containerName(c));
        values.push(profile.type ?? "");
      }
    } else if (!podSet) implicit.push(containerName(c));
  }
  if (explicit.length > 0) setters.push(containersPhrase(explicit));
  if (setters.length > 0)
    return refuse(
      "seccompProfile",
      `${setters.join(" and ")} must not set securityContext.seccompProfile.type to ${joinQuote(sortedSet(values))}`,
    );
  if (implicit.length > 0)
    return refuse(
      "seccompProfile",
      `pod or ${containersPhrase(implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`,
    );
  return ALLOWED;
}

function capabilitiesRestricted(_: unknown, spec: PodSpec) {
  const missingDropAll: string[] = [];
  const addingForbidden: string[] = [];
  const forbidden: string[] = [];
  for (const c of allContainers(spec)) {
    const caps = c.securityContext?.capabilities;
    if (!caps) {
      missingDropAll.push(containerName(c));
      continue;
    }
    if (!(caps.drop ?? []).includes("ALL")) missingDropAll.push(containerName(c));
    const extra = (caps.add ?? []).filter((cap) => cap !== "NET_BIND_SERVICE");
    if (extra.length > 0) {
      addingForbidden.push(containerName(c));
      forbidden.push(...extra);
    }
  }
  const details: string[] = [];
  if (missingDropAll.length > 0)
    details.push(`${containersPhrase(missingDropAll)} must set securityContext.capabilities.drop=["ALL"]`);
  if (addingForbidden.length > 0)
    details.push(
      `${containersPhrase(addingForbidden)} must not include ${joinQuote(sortedSet(forbidden))} in securityContext.capabilities.add`,
    );
  return details.length === 0 ? ALLOWED : refuse("unrestricted capabilities", details.join("; "));
}

export const RESTRICTED_CHECKS: Check[] = [
  {
    id: "restrictedVolumes",
    level: "restricted",
    versions: [{ minimumVersion: 0, checkPod: restrictedVolumes, overrides: ["hostPathVolumes"] }],
  },
  {
    id: "allowPrivilegeEscalation",
    level: "restricted",
    versions: [
      { minimumVersion: 8, checkPod: allowPrivilegeEscalation },
      { minimumVersion: 25, checkPod: exceptWindows(allowPrivilegeEscalation) },
    ],
  },
  { id: "runAsNonRoot", level: "restricted", versions: [{ minimumVersion: 0, checkPod: runAsNonRoot }] },
  { id: "runAsUser", level: "restricted", versions: [{ minimumVersion: 23, checkPod: runAsUser }] },
  {
    id: "seccompProfile_restricted",
    level: "restricted",
    versions: [
      { minimumVersion: 19, checkPod: seccompRestricted, overrides: ["seccompProfile_baseline"] },
      {
        minimumVersion: 25,
        checkPod: exceptWindows(seccompRestricted),
        overrides: ["seccompProfile_baseline"],
      },
    ],
  },
  {
    id: "capabilities_restricted",
    level: "restricted",
    versions: [
      { minimumVersion: 22, checkPod: capabilitiesRestricted, overrides: ["capabilities_baseline"] },
      {
        minimumVersion: 25,
        checkPod: exceptWindows(capabilitiesRestricted),
        overrides: ["capabilities_baseline"],
      },
    ],
  },
];
