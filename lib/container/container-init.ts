// The container init (container-init.c): built once per machine with the C compiler into the temp
// dir (keyed by its source, so a change rebuilds it), then handed to every sandbox as an open fd and
// run as /proc/self/fd/<n> — like runc's init it is never visible in the container's filesystem.
//
// Protocol: argv `<report-fd|-> <uid> <gid> <groups> <caps> <cwd> <argv...>`; on the report fd it
// writes `started` right before exec, or `error <message>` (runc's wording, without containerd's
// prefixes) when the process cannot start: bad working directory, user, or an executable not found.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface ProcessIdentity {
  uid: number;
  gid: number;
  /** Every group of the process (the primary gid included, as containerd's additionalGids). */
  groups: number[];
  /** Capability numbers of the bounding set; "all" leaves it untouched (privileged). */
  capabilities: number[] | "all";
}

const SOURCE = path.join(import.meta.dirname, "container-init.c");

let built: string | undefined;

/** The init binary, compiled on first use (static: it runs in any container root). */
export function containerInit(): string {
  if (built && fs.existsSync(built)) return built;
  const source = fs.readFileSync(SOURCE);
  const key = createHash("sha256").update(source).update(process.arch).digest("hex").slice(0, 16);
  const target = path.join(os.tmpdir(), `kiln-container-init-${key}`);
  if (!fs.existsSync(target)) {
    // Built beside the target and renamed, so kubelets starting at once never run a half-written file.
    const partial = `${target}.${process.pid}.partial`;
    const cc = spawnSync("cc", ["-static", "-O2", "-o", partial, SOURCE], { encoding: "utf8" });
    if (cc.error || cc.status !== 0) {
      fs.rmSync(partial, { force: true });
      throw new Error(
        "the process kubelet builds its container init with a C compiler and static libc: " +
          `apt-get install gcc libc6-dev (${cc.error?.message ?? cc.stderr.trim()})`,
      );
    }
    fs.renameSync(partial, target);
  }
  built = target;
  return target;
}

/** The init's arguments before the container's own argv. */
export function initArgs(
  report: number | undefined,
  id: ProcessIdentity,
  cwd: string,
  argv: string[],
): string[] {
  const list = (xs: number[]) => (xs.length > 0 ? xs.join(",") : "-");
  const caps = id.capabilities === "all" ? "all" : list(id.capabilities);
  return [
    report === undefined ? "-" : String(report),
    String(id.uid),
    String(id.gid),
    list(id.groups),
    caps,
    cwd,
    ...argv,
  ];
}

export type InitReport = { started: true } | { started: false; error: string };

/** What the init wrote on its report fd; undefined while it has said nothing complete yet. */
export function parseReport(text: string): InitReport | undefined {
  const line = text.split("\n")[0];
  if (!text.includes("\n") || line === undefined) return undefined;
  if (line === "started") return { started: true };
  if (line.startsWith("error ")) return { started: false, error: line.slice("error ".length) };
  return { started: false, error: `container init: unexpected report ${JSON.stringify(line)}` };
}

/** Capability names (lower case, without cap_) to numbers, as linux/capability.h numbers them. */
export const CAPABILITY_NUMBERS: Record<string, number> = Object.fromEntries(
  [
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
  ].map((name, i) => [name, i]),
);
