// A container's securityContext as the kubelet and container runtime apply it, as a pure function:
// the user and groups it runs as, runAsNonRoot checks, no_new_privs and the capability bounding
// set. Processes really switch user (setpriv inside the sandbox), so files they create belong to
// that uid, as in a real pod. Images are ignored, so an unset runAsUser means the image's default
// user, taken to be root.
import type { V1Container, V1Pod } from "@kubernetes/client-node";

export interface Security {
  uid: number;
  gid: number;
  groups: number[];
  noNewPrivs: boolean;
  /** Capability bounding set for setpriv, e.g. "-all,+chown"; undefined for non-root (no caps). */
  bounding?: string;
  readOnlyRootFilesystem: boolean;
}

export type SecurityResult =
  | { ok: true; security: Security }
  | { ok: false; reason: string; message: string };

// containerd's default capabilities for a container running as root.
export const DEFAULT_CAPS = [
  "chown",
  "dac_override",
  "fsetid",
  "fowner",
  "mknod",
  "net_raw",
  "setgid",
  "setuid",
  "setfcap",
  "setpcap",
  "net_bind_service",
  "sys_chroot",
  "kill",
  "audit_write",
];

const capName = (c: string) => c.toLowerCase().replace(/^cap_/, "");

export function resolveSecurity(pod: V1Pod, c: V1Container): SecurityResult {
  const podSc = pod.spec?.securityContext ?? {};
  const sc = c.securityContext ?? {};
  const uid = sc.runAsUser ?? podSc.runAsUser;
  const gid = sc.runAsGroup ?? podSc.runAsGroup ?? 0;
  const nonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot ?? false;
  const who = `(pod: "${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})", container: ${c.name})`;
  if (nonRoot && uid === undefined) {
    return {
      ok: false,
      reason: "CreateContainerConfigError",
      message: `container has runAsNonRoot and image will run as root ${who}`,
    };
  }
  if (nonRoot && uid === 0) {
    return {
      ok: false,
      reason: "CreateContainerConfigError",
      message: `container's runAsUser breaks non-root policy ${who}`,
    };
  }
  const groups = [
    ...(podSc.fsGroup !== undefined ? [podSc.fsGroup] : []),
    ...(podSc.supplementalGroups ?? []),
  ];
  let bounding: string | undefined;
  if ((uid ?? 0) === 0 && !sc.privileged) {
    const drop = (sc.capabilities?.drop ?? []).map(capName);
    const add = (sc.capabilities?.add ?? []).map(capName);
    const base = drop.includes("all") ? [] : DEFAULT_CAPS.filter((cap) => !drop.includes(cap));
    const caps = [...new Set([...base, ...add.filter((a) => a !== "all")])];
    bounding = add.includes("all") ? undefined : ["-all", ...caps.map((cap) => `+${cap}`)].join(",");
  }
  return {
    ok: true,
    security: {
      uid: uid ?? 0,
      gid,
      groups: [...new Set(groups)],
      noNewPrivs: sc.allowPrivilegeEscalation === false,
      ...(bounding !== undefined ? { bounding } : {}),
      readOnlyRootFilesystem: sc.readOnlyRootFilesystem === true,
    },
  };
}

/** The command run through setpriv, which switches user and limits privileges, then execs it. */
export function withPrivileges(argv: string[], s: Security): string[] {
  const args = ["setpriv", `--reuid=${s.uid}`, `--regid=${s.gid}`];
  args.push(s.groups.length > 0 ? `--groups=${s.groups.join(",")}` : "--clear-groups");
  if (s.noNewPrivs) args.push("--no-new-privs");
  if (s.bounding !== undefined) args.push(`--bounding-set=${s.bounding}`, "--inh-caps=-all");
  return [...args, "--", ...argv];
}
