// A memory cgroup per container when the machine lets us make one: it enforces limits.memory,
// tells an OOM kill apart from any other SIGKILL (reason OOMKilled, as the kubelet reports), and
// lists every process of the container so none can outlive it. cgroup v1 (memory controller
// mounted at /sys/fs/cgroup/memory) and v2 (unified hierarchy with the memory controller) are
// both handled; without either, containers run without limits and OOMKilled is never reported.
import * as fs from "node:fs";
import * as path from "node:path";

export interface Cgroup {
  dir: string;
  /** Prefix for the command: joins the cgroup, then execs the rest. */
  wrap(argv: string[]): string[];
  oomKilled(): boolean;
  pids(): number[];
  remove(): Promise<void>;
}

type Flavour = { version: 1 | 2; root: string };

let detected: Flavour | null | undefined;

function writable(dir: string): boolean {
  try {
    fs.mkdirSync(dir, { recursive: true });
    const probe = path.join(dir, `probe-${process.pid}`);
    fs.mkdirSync(probe);
    fs.rmdirSync(probe);
    return true;
  } catch {
    return false;
  }
}

function detect(base = "/sys/fs/cgroup"): Flavour | null {
  const v1 = path.join(base, "memory");
  if (fs.existsSync(path.join(v1, "memory.limit_in_bytes")) || fs.existsSync(path.join(v1, "cgroup.procs"))) {
    const root = path.join(v1, "kiln-process-kubelet");
    if (writable(root)) return { version: 1, root };
  }
  try {
    if (fs.readFileSync(path.join(base, "cgroup.controllers"), "utf8").split(/\s+/).includes("memory")) {
      const root = path.join(base, "kiln-process-kubelet");
      if (writable(root)) {
        fs.writeFileSync(path.join(root, "cgroup.subtree_control"), "+memory");
        return { version: 2, root };
      }
    }
  } catch {}
  return null;
}

export function cgroupsAvailable(): boolean {
  if (detected === undefined) detected = detect();
  return detected !== null;
}

/** A fresh cgroup for one container run, or undefined when cgroups are not available. */
export function createCgroup(id: string, memoryLimitBytes: number | undefined): Cgroup | undefined {
  if (!cgroupsAvailable() || !detected) return undefined;
  const { version, root } = detected;
  const dir = path.join(root, id.replace(/[^A-Za-z0-9_.-]/g, "_"));
  try {
    fs.mkdirSync(dir);
    if (memoryLimitBytes !== undefined) {
      const bytes = String(Math.floor(memoryLimitBytes));
      if (version === 1) {
        fs.writeFileSync(path.join(dir, "memory.limit_in_bytes"), bytes);
        try {
          fs.writeFileSync(path.join(dir, "memory.memsw.limit_in_bytes"), bytes); // no swapping past the limit
        } catch {}
      } else {
        fs.writeFileSync(path.join(dir, "memory.max"), bytes);
        fs.writeFileSync(path.join(dir, "memory.swap.max"), "0");
      }
    }
  } catch {
    return undefined;
  }
  const read = (file: string) => {
    try {
      return fs.readFileSync(path.join(dir, file), "utf8");
    } catch {
      return "";
    }
  };
  return {
    dir,
    wrap: (argv) => ["/bin/sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', dir, ...argv],
    oomKilled: () => {
      const text = version === 1 ? read("memory.oom_control") : read("memory.events");
      const m = /^oom_kill (\d+)$/m.exec(text);
      return m !== null && Number(m[1]) > 0;
    },
    pids: () => read("cgroup.procs").split("\n").filter(Boolean).map(Number),
    remove: async () => {
      // The kernel empties the cgroup a moment after the last process is reaped.
      for (let i = 0; i < 50; i++) {
        try {
          fs.rmdirSync(dir);
          return;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    },
  };
}
