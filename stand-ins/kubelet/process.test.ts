// The container runner against real bubblewrap: isolation, exit codes, signals, no leftovers.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { ContainerProcess } from "../../lib/container/process.ts";
import { rootView } from "../../lib/container/root-view.ts";
import { bwrapArgs, canonical, type HostFs, hostPathOf, mirrorArgs } from "../../lib/container/sandbox.ts";
import { waitFor } from "../../test/wait-for.ts";
import { ContainerLog } from "./logs.ts";
import { pidsWith } from "./pids.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kubelet-process-test-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
let n = 0;

function run(script: string, mounts: { containerPath: string; hostPath: string; readOnly: boolean }[] = []) {
  const log = new ContainerLog(path.join(dir, `run-${n++}.log`), 1 << 20);
  const proc = new ContainerProcess({
    id: `process-test-${process.pid}-${n}`,
    command: ["/bin/sh", "-c", script],
    env: new Map([
      ["PATH", PATH],
      ["GREETING", "hello"],
    ]),
    mounts,
    workingDir: "/",
    hostname: "pod-a",
    log,
  });
  const output = async () => {
    await proc.exited;
    log.close();
    return log.entries().map((e) => e.line);
  };
  return { proc, log, output };
}

describe("ContainerProcess", { timeout: 30_000 }, () => {
  test("runs in its own namespaces with env, a read-only host and volumes", async () => {
    const ws = fs.mkdtempSync(path.join(dir, "ws-"));
    const secret = fs.mkdtempSync(path.join(dir, "secret-"));
    fs.writeFileSync(path.join(secret, "token"), "tok-123");
    const { proc, output } = run(
      'echo "$GREETING $(hostname) pid=$$"; cat /var/run/secrets/kubernetes.io/serviceaccount/token; echo; ' +
        "echo data > /workspace/out && echo ws-writable; touch /etc/kiln-x 2>/dev/null || echo host-ro; " +
        "touch /var/run/secrets/kubernetes.io/serviceaccount/x 2>/dev/null || echo secret-ro; " +
        "ls -A /tmp | wc -l; exit 3",
      [
        { containerPath: "/workspace", hostPath: ws, readOnly: false },
        { containerPath: "/var/run/secrets/kubernetes.io/serviceaccount", hostPath: secret, readOnly: true },
      ],
    );
    assert.deepEqual(await proc.exited, { exitCode: 3 });
    assert.deepEqual(await output(), [
      "hello pod-a pid=1",
      "tok-123",
      "ws-writable",
      "host-ro",
      "secret-ro",
      "0",
    ]);
    assert.equal(fs.readFileSync(path.join(ws, "out"), "utf8"), "data\n");
  });

  test("without the mount the token path does not exist", async () => {
    const { output } = run("ls /var/run/secrets/kubernetes.io/serviceaccount 2>&1; echo rc=$?");
    const lines = await output();
    assert.equal(lines.at(-1), "rc=2");
  });

  test("a hidden host dir (the kubelet's data dir) is empty inside; volumes from it still bind", async (t) => {
    // Outside /tmp, whose fresh tmpfs would hide it anyway: a data dir where the host tree shows.
    const data = fs.mkdtempSync("/var/tmp/kubelet-data-");
    t.after(() => fs.rmSync(data, { recursive: true, force: true }));
    fs.mkdirSync(path.join(data, "other-pod"));
    fs.writeFileSync(path.join(data, "other-pod", "token"), "not-yours");
    fs.mkdirSync(path.join(data, "this-pod"));
    fs.writeFileSync(path.join(data, "this-pod", "token"), "yours");
    const script = `ls -A ${data} | wc -l; cat ${data}/other-pod/token 2>/dev/null || echo hidden; cat /v/token`;
    const mounts = [{ containerPath: "/v", hostPath: path.join(data, "this-pod"), readOnly: true }];
    const log = new ContainerLog(path.join(dir, `run-${n++}.log`), 1 << 20);
    const proc = new ContainerProcess({
      id: `process-test-${process.pid}-${n}`,
      command: ["/bin/sh", "-c", script],
      env: new Map([["PATH", PATH]]),
      mounts,
      hidden: [data],
      workingDir: "/",
      hostname: "pod-a",
      log,
    });
    assert.deepEqual(await proc.exited, { exitCode: 0 });
    log.close();
    assert.deepEqual(
      log.entries().map((e) => e.line),
      ["0", "hidden", "yours"],
    );
    // Without hiding, the host tree would show it: the check above can fail.
    const { output } = run(`cat ${data}/other-pod/token`);
    assert.deepEqual(await output(), ["not-yours"]);
  });

  test("pid 1 ignores SIGTERM it does not handle, SIGKILL after the grace period ends it", async () => {
    const { proc } = run("exec sleep 30");
    await proc.pid;
    const exit = await proc.terminate(300);
    assert.equal(exit.exitCode, 137);
    assert.equal(exit.signal, 9);
  });

  test("a trapped SIGTERM lets the container exit cleanly", async () => {
    const { proc, log, output } = run("trap 'echo bye; exit 0' TERM; echo up; while :; do sleep 0.05; done");
    await proc.pid;
    // "up" comes after the trap is set: a SIGTERM before it would find no handler.
    await waitFor("the trap to be set", () => log.entries().some((e) => e.line === "up"), 10_000);
    const exit = await proc.terminate(5000);
    assert.equal(exit.exitCode, 0);
    // The process group gets SIGTERM, so the shell's foreground sleep is terminated too.
    const lines = await output();
    assert.equal(lines[0], "up");
    assert.equal(lines.at(-1), "bye");
  });

  test("background processes die with the container", async () => {
    const marker = `kiln-marker-${process.pid}-${Date.now()}`;
    const gate = fs.mkdtempSync(path.join(dir, "gate-"));
    // pid 1 ends only when the test opens the gate, so the background process is seen while it runs.
    const { proc } = run(
      `sh -c 'sleep 60; : ${marker}' & echo started; until [ -e /gate/open ]; do sleep 0.02; done`,
      [{ containerPath: "/gate", hostPath: gate, readOnly: true }],
    );
    await proc.pid;
    await waitFor("the background process to run", () => pidsWith(marker).length > 0, 10_000);
    fs.writeFileSync(path.join(gate, "open"), "");
    assert.equal((await proc.exited).exitCode, 0);
    // Not eventually: the pid namespace's init took every process with it before the container exited.
    assert.deepEqual(pidsWith(marker), []);
  });

  test("a bad mount is a setup error, not a container exit", async () => {
    const { proc } = run("true", [
      { containerPath: "/x", hostPath: path.join(dir, "missing"), readOnly: false },
    ]);
    const exit = await proc.exited;
    assert.match(exit.setupError ?? "", /^bwrap: /);
  });
});

describe("sandbox planning", () => {
  const tree: Record<string, string[] | string> = {
    "/": ["bin", "etc", "proc", "tmp", "var", "run"],
    "/etc": ["passwd", "ssl"],
    "/var": ["run", "lib"],
    "/run": ["lock"],
  };
  const links: Record<string, string> = { "/var/run": "/run", "/bin": "usr/bin" };
  const fake: HostFs = {
    exists: (p) =>
      p === "/" ||
      Object.values(tree).some(
        (v, i) =>
          Object.keys(tree)[i] === p ||
          (Array.isArray(v) && v.some((c) => path.join(Object.keys(tree)[i]!, c) === p)),
      ),
    isDirectory: (p) => p in tree,
    readlink: (p) => links[p],
    readdir: (p) => (Array.isArray(tree[p]) ? (tree[p] as string[]) : []),
    realpath: (p) => (links[p] && p === "/var/run" ? "/run" : p),
  };

  test("mount paths resolve host symlinks", () => {
    assert.equal(canonical("/var/run/secrets/x", fake), "/run/secrets/x");
    assert.equal(canonical("/workspace", fake), "/workspace");
    assert.equal(canonical("/tmp/a", fake), "/tmp/a");
  });

  test("the host is mirrored around mount points", () => {
    assert.deepEqual(mirrorArgs(["/run/secrets/x", "/etc/kiln"], fake), [
      ...["--symlink", "usr/bin", "/bin"],
      ...["--dir", "/etc", "--ro-bind", "/etc/passwd", "/etc/passwd", "--ro-bind", "/etc/ssl", "/etc/ssl"],
      ...["--dir", "/run", "--ro-bind", "/run/lock", "/run/lock"],
      ...["--ro-bind", "/var", "/var"],
    ]);
  });

  test("bwrap arguments: namespaces, fresh /tmp, mounts parents first, working dir", () => {
    const args = bwrapArgs(
      {
        command: ["sh"],
        mounts: [
          { containerPath: "/workspace/sub", hostPath: "/h/sub", readOnly: true },
          { containerPath: "/workspace", hostPath: "/h/ws", readOnly: false },
        ],
        workingDir: "/workspace",
        hostname: "p",
        statusFd: 3,
      },
      fake,
    );
    const s = args.join(" ");
    assert.match(s, /--unshare-pid --as-pid-1/);
    assert.match(s, /--die-with-parent/);
    assert.match(
      s,
      /--perms 1777 --tmpfs \/tmp --perms 0700 --tmpfs \/root --bind \/h\/ws \/workspace --ro-bind \/h\/sub \/workspace\/sub/,
    );
    assert.match(s, /--chdir \/workspace -- sh$/);
  });

  test("hidden dirs get an empty tmpfs, unless under the fresh /tmp or /root", () => {
    const spec = { command: ["sh"], mounts: [], workingDir: "/", hostname: "p", statusFd: 3 };
    const s = bwrapArgs({ ...spec, hidden: ["/var", "/tmp/kubelet", "/nowhere"] }, fake).join(" ");
    assert.match(s, /--ro-bind \/var \/var .*--tmpfs \/var /);
    assert.doesNotMatch(s, /--tmpfs \/tmp\/kubelet|\/nowhere/);
  });

  test("image mode: the container's root bound as /, mount points resolved through the image's symlinks", () => {
    // An image whose /var/run points at /run by an absolute link: on the host that would be the host's /run.
    const image = fs.mkdtempSync(path.join(dir, "image-"));
    fs.mkdirSync(path.join(image, "run"));
    fs.mkdirSync(path.join(image, "var"));
    fs.symlinkSync("/run", path.join(image, "var/run"));
    fs.mkdirSync(path.join(image, "etc"));
    fs.writeFileSync(path.join(image, "etc/hosts"), "");
    const view = rootView(image);
    assert.equal(canonical("/var/run/secrets/token", view, new Set(["/proc", "/dev"])), "/run/secrets/token");
    const s = bwrapArgs({
      command: ["init"],
      root: { dir: "/layer/root", view },
      mounts: [
        {
          containerPath: "/var/run/secrets/kubernetes.io/serviceaccount",
          hostPath: "/h/token",
          readOnly: true,
        },
        { containerPath: "/etc/hosts", hostPath: "/h/hosts", readOnly: false },
        { containerPath: "/tmp/cache", hostPath: "/h/cache", readOnly: false },
      ],
      workingDir: "/workspace",
      hostname: "p",
      statusFd: 3,
      readOnlyRoot: true,
    }).join(" ");
    assert.match(s, /--bind \/layer\/root \/ --proc \/proc --dev \/dev --ro-bind \/sys \/sys /);
    // No host mirror and no fresh /tmp: the image's own tree, its /tmp included.
    assert.doesNotMatch(s, /--tmpfs|--symlink|--ro-bind \/etc /);
    assert.match(s, /--perms 0755 --dir \/run\/secrets --perms 0755 --dir \/run\/secrets\/kubernetes.io /);
    assert.match(s, /--ro-bind \/h\/token \/run\/secrets\/kubernetes.io\/serviceaccount/);
    assert.match(s, /--perms 0755 --dir \/tmp .*--bind \/h\/cache \/tmp\/cache/);
    assert.match(s, /--dir \/workspace .*--remount-ro \/ --chdir \/workspace -- init$/);
  });

  test("a volume's host path for a container path", () => {
    const mounts = [{ containerPath: "/kiln", hostPath: "/h/kiln", readOnly: false }];
    assert.equal(hostPathOf("/kiln/runner", mounts), "/h/kiln/runner");
    assert.equal(hostPathOf("/kiln", mounts), "/h/kiln");
    assert.equal(hostPathOf("/tmp/x", mounts), undefined);
  });
});
