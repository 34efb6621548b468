// The container init (container-init.c): built once per machine with the C compiler into the temp
// dir (keyed by its source, so a change rebuilds it), then handed to every sandbox as an open fd and
// run as /proc/self/fd/<n> — like runc's init it is never visible in the container's filesystem.
//
// Protocol: argv `<report-fd|-> <console-fd|-> <uid> <gid> <groups> <caps> <cwd> <argv...>`; on the
// report fd it writes `started` right before exec, or `error <message>` (runc's wording, without
// containerd's prefixes) when the process cannot start: bad working directory, user, or an executable
// not found. With a console fd (runc's console socket) the process gets a terminal: the init sends the
// pty master over that socket to the tty shim (tty-shim.c, built the same way), which relays it.
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

const built = new Map<string, string>();

/** A helper of ours (`<name>.c` here), compiled on first use (static: the init runs in any root). */
function compiled(name: "container-init" | "tty-shim"): string {
  const known = built.get(name);
  if (known && fs.existsSync(known)) return known;
  const file = path.join(import.meta.dirname, `${name}.c`);
  const source = fs.readFileSync(file);
  const key = createHash("sha256").update(source).update(process.arch).digest("hex").slice(0, 16);
  const target = path.join(os.tmpdir(), `kiln-${name}-${key}`);
  if (!fs.existsSync(target)) {
    // Built beside the target and renamed, so kubelets starting at once never run a half-written file.
    const partial = `${target}.${process.pid}.partial`;
    const cc = spawnSync("cc", ["-static", "-O2", "-Wall", "-o", partial, file], { encoding: "utf8" });
    if (cc.error || cc.status !== 0) {
      fs.rmSync(partial, { force: true });
      throw new Error(
        `the process kubelet builds its ${name} with a C compiler and static libc: ` +
          `apt-get install gcc libc6-dev (${cc.error?.message ?? cc.stderr.trim()})`,
      );
    }
    fs.renameSync(partial, target);
  }
  built.set(name, target);
  return target;
}

/** The init binary. */
export function containerInit(): string {
  return compiled("container-init");
}

/**
 * The tty shim: `tty-shim <console-fd> <resize-fd|-> <command...>` runs the command, takes the pty
 * master the init sends on console-fd and relays it (stdin to it, it to stdout), applying the
 * `<columns> <rows>` lines it reads on resize-fd; it exits as the command did.
 */
export function ttyShim(): string {
  return compiled("tty-shim");
}

/** The init's fds: where it reports (container start) and its console socket (a terminal). */
export interface InitFds {
  report?: number;
  console?: number;
}

/** The init's arguments before the container's own argv. */
export function initArgs(fds: InitFds, id: ProcessIdentity, cwd: string, argv: string[]): string[] {
  const list = (xs: number[]) => (xs.length > 0 ? xs.join(",") : "-");
  const caps = id.capabilities === "all" ? "all" : list(id.capabilities);
  const fd = (n: number | undefined) => (n === undefined ? "-" : String(n));
  return [
    fd(fds.report),
    fd(fds.console),
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
