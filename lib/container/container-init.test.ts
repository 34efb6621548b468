// The container init run directly (no sandbox): runc's start-up steps and its error texts, which the
// kubelet turns into StartError messages.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Writable } from "node:stream";
import { text } from "node:stream/consumers";
import { after, describe, test } from "node:test";
import { containerInit, initArgs, type ProcessIdentity, parseReport, ttyShim } from "./container-init.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "container-init-test-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
fs.mkdirSync(path.join(dir, "bin"));
fs.writeFileSync(path.join(dir, "bin", "tool"), "#!/bin/sh\necho tool ran\n", { mode: 0o755 });
fs.writeFileSync(path.join(dir, "bin", "data"), "not a program\n", { mode: 0o644 });
fs.mkdirSync(path.join(dir, "bin", "subdir"));
fs.mkdirSync(path.join(dir, "private"), { mode: 0o700 });

const ROOT: ProcessIdentity = { uid: 0, gid: 0, groups: [0], capabilities: "all" };

/** Runs the init with its report on fd 3; returns the report and what the process printed. */
function init(argv: string[], options: { path?: string; cwd?: string; id?: ProcessIdentity } = {}) {
  const r = spawnSync(
    containerInit(),
    initArgs({ report: 3 }, options.id ?? ROOT, options.cwd ?? "/", argv),
    {
      env: { PATH: options.path ?? `/nonexistent:${path.join(dir, "bin")}:/usr/bin:/bin` },
      stdio: ["ignore", "pipe", "pipe", "pipe"],
      encoding: "utf8",
    },
  );
  const output = r.output as (string | null)[];
  return { report: parseReport(output[3] ?? ""), stdout: r.stdout, stderr: r.stderr, status: r.status };
}

describe("container init", () => {
  const notStarted: [string, string[], Parameters<typeof init>[1], string][] = [
    ["not on PATH", ["kiln"], {}, 'exec: "kiln": executable file not found in $PATH'],
    ["no PATH at all", ["tool"], { path: "" }, 'exec: "tool": executable file not found in $PATH'],
    [
      "a missing path",
      ["/no/such/binary"],
      {},
      'exec: "/no/such/binary": stat /no/such/binary: no such file or directory',
    ],
    ["a directory", [path.join(dir, "bin/subdir")], {}, `exec: "${dir}/bin/subdir": is a directory`],
    ["not executable", [path.join(dir, "bin/data")], {}, `exec: "${dir}/bin/data": permission denied`],
    [
      "a non-executable file on PATH is skipped",
      ["data"],
      {},
      'exec: "data": executable file not found in $PATH',
    ],
    [
      "found only through a relative PATH entry",
      ["tool"],
      { path: "bin", cwd: dir },
      'exec: "tool": cannot run executable found relative to current directory',
    ],
    [
      "a missing working directory",
      ["true"],
      { cwd: "/no/such/dir" },
      'chdir to cwd ("/no/such/dir") set in config.json failed: no such file or directory',
    ],
  ];
  for (const [name, argv, options, error] of notStarted) {
    test(name, () => {
      const r = init(argv, options);
      assert.deepEqual(r.report, { started: false, error });
      assert.equal(r.stdout, "");
    });
  }

  test("started: the process found on PATH runs, argv[0] as given", () => {
    const r = init(["tool"]);
    assert.deepEqual(r.report, { started: true });
    assert.equal(r.stdout, "tool ran\n");
    const shown = init(["sh", "-c", 'echo "$0"']);
    assert.equal(shown.stdout, "sh\n");
  });

  test("a working directory only root may enter is entered before the user switch, as runc does", () => {
    const id: ProcessIdentity = { uid: 4242, gid: 4242, groups: [4242], capabilities: [] };
    const r = init(["sh", "-c", "pwd; ls . 2>/dev/null || echo unreadable"], {
      cwd: path.join(dir, "private"),
      id,
    });
    assert.deepEqual(r.report, { started: true });
    assert.equal(r.stdout, `${dir}/private\nunreadable\n`);
  });

  test("user, groups, capabilities, umask, and no fd of the caller past stdio", () => {
    const id: ProcessIdentity = { uid: 4242, gid: 4343, groups: [5, 4343], capabilities: [] };
    const r = init(
      ["sh", "-c", "id -u; id -g; id -G; umask; ls /proc/self/fd | wc -l; grep CapEff /proc/self/status"],
      {
        id,
      },
    );
    assert.deepEqual(r.report, { started: true });
    // fds 0-2, and the one ls opens on /proc/self/fd.
    assert.equal(r.stdout, "4242\n4343\n4343 5\n0022\n4\nCapEff:\t0000000000000000\n");
    const root = init(["sh", "-c", "grep -E 'CapEff|CapBnd' /proc/self/status"], {
      id: { uid: 0, gid: 0, groups: [0], capabilities: [0, 5] },
    });
    assert.equal(root.stdout, "CapEff:\t0000000000000021\nCapBnd:\t0000000000000021\n");
  });

  test("an exec that fails after the start is the process's own failure: stderr and 255", () => {
    fs.writeFileSync(path.join(dir, "bin", "broken"), "#!/no/such/interpreter\n", { mode: 0o755 });
    const r = init(["broken"]);
    assert.deepEqual(r.report, { started: true });
    assert.equal(r.status, 255);
    assert.equal(r.stderr, `exec ${dir}/bin/broken: no such file or directory\n`);
  });

  test("the report protocol", () => {
    assert.equal(parseReport(""), undefined);
    assert.equal(parseReport("star"), undefined);
    assert.deepEqual(parseReport("started\n"), { started: true });
    assert.deepEqual(parseReport("error boom\n"), { started: false, error: "boom" });
  });
});

// The tty shim running the init with a console socket, on the host's own devpts: what an exec with a
// tty is once nsenter has entered the container.
describe("a terminal: the init's console socket and the tty shim", () => {
  const CONSOLE_FD = 5;
  const RESIZE_FD = 3;
  function terminal(argv: string[], id: ProcessIdentity = ROOT) {
    const child = spawn(
      ttyShim(),
      [
        String(CONSOLE_FD),
        String(RESIZE_FD),
        containerInit(),
        ...initArgs({ console: CONSOLE_FD }, id, "/", argv),
      ],
      { env: { PATH: "/usr/bin:/bin" }, stdio: ["pipe", "pipe", "pipe", "pipe"] },
    );
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal });
      }),
    );
    return {
      child,
      resize: child.stdio[RESIZE_FD] as Writable,
      done: Promise.all([text(child.stdout!), text(child.stderr!), exit]).then(([stdout, stderr, e]) => ({
        stdout,
        stderr,
        ...e,
      })),
    };
  }

  test("a new session with the terminal as controlling tty and stdio, sized before it existed", async () => {
    const t = terminal(
      [
        "sh",
        "-c",
        'tty; stty size; [ "$(cut -d" " -f6 /proc/$$/stat)" = $$ ] && echo leader; readlink /proc/$$/fd/0 /proc/$$/fd/2; id -u',
      ],
      { uid: 4242, gid: 4242, groups: [4242], capabilities: [] },
    );
    t.resize.write("101 33\n");
    t.child.stdin.end();
    const r = await t.done;
    const [tty, ...rest] = r.stdout.split("\r\n");
    assert.match(tty!, /^\/dev\/pts\/\d+$/);
    assert.deepEqual(rest, ["33 101", "leader", tty, tty, "4242", ""]);
    assert.equal(r.code, 0, r.stderr);
  });

  test("typed bytes go through the line discipline; Ctrl-C kills the foreground process, and the shim", async () => {
    const t = terminal(["cat"]);
    t.child.stdin.write("hello\r");
    let seen = "";
    await new Promise<void>((resolve) =>
      t.child.stdout!.on("data", (d: Buffer) => {
        seen += d.toString();
        if (seen === "hello\r\nhello\r\n") resolve();
      }),
    );
    t.child.stdin.write("\x03");
    const r = await t.done;
    assert.deepEqual([r.code, r.signal], [null, "SIGINT"]);
  });

  test("the exit code, and output written just before the exit", async () => {
    const t = terminal(["sh", "-c", "seq 1 20000; exit 3"]);
    const r = await t.done;
    assert.equal(r.code, 3);
    assert.match(r.stdout, /\r\n19999\r\n20000\r\n$/);
  });

  test("the init's own errors once the terminal is there go to the terminal", async () => {
    const r = await terminal(["no-such-command"]).done;
    assert.equal(r.code, 127);
    assert.equal(r.stdout, 'exec: "no-such-command": executable file not found in $PATH\r\n');
  });
});
