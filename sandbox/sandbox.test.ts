// The README's first screen, as a person goes through it: `npm start` starts all of Kiln on one machine
// and pushes the demo pipeline itself; then a clone of the printed URL, an edited .kiln.yaml and a
// `git push` (the real git) make a Build (checked with real kubectl), a chat message and commit
// statuses on the console; a line on the console's stdin (a pipe) is a chat message the bot answers.
// A failing step behind a pause: the chat shows the exact `kubectl exec` line, which gets a prompt in a
// terminal; `/release` typed on the console lets it go on to fail, announced and posted. A second push
// supersedes a running build. Ctrl-C stops it all cleanly.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, test } from "node:test";
import { promisify } from "node:util";
import { spawnPty } from "../test/pty.ts";
import { waitFor } from "../test/wait-for.ts";

const exec = promisify(execFile);
const root = resolve(import.meta.dirname, "..");
const kubectlPath = resolve(root, ".tools/bin/kubectl");
const dir = mkdtempSync(join(tmpdir(), "kiln-sandbox-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("npm start: git push → webhook → Build → chat → commit status; exec into a paused build; /release; superseding; Ctrl-C", async () => {
  const kubeconfig = join(dir, "kubeconfig");
  // As typed in a terminal: npm runs the sandbox with the project's Node 24, in a process group of its
  // own, so Ctrl-C (SIGINT to the group) reaches npm and the sandbox alike.
  const child = spawn(
    "npm",
    [
      ...["start", "--silent", "--", "--port", "0", "--webhook-port", "0"],
      ...["--github-port", "0", "--telegram-port", "0", "--kubeconfig", kubeconfig],
      ...["--store-port", "0", "--store-dir", join(dir, "store")],
    ],
    { cwd: root, stdio: ["pipe", "pipe", "pipe"], detached: true, env: { ...process.env, NO_COLOR: "1" } },
  );
  let output = "";
  let errors = "";
  child.stdout.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    errors += d.toString();
  });
  const exited = new Promise<string>((done) =>
    child.on("close", (code, signal) => done(signal ?? String(code))),
  );
  const printed = (pattern: RegExp, what: string, timeoutMs = 30_000) =>
    waitFor(
      what,
      () => {
        assert.equal(child.exitCode, null, `the sandbox exited; output:\n${output}\n${errors}`);
        return pattern.exec(output) ?? undefined;
      },
      timeoutMs,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\noutput:\n${output}\nstderr:\n${errors}`);
    });
  const kubectl = async (...args: string[]) =>
    (await exec(kubectlPath, ["--kubeconfig", kubeconfig, "--request-timeout", "5s", ...args])).stdout;
  // Kiln's CLI as the README has it: npx from the checkout, against the sandbox's kubeconfig.
  const kiln = (...args: string[]) =>
    exec("npx", ["kiln", ...args, "--kubeconfig", kubeconfig], { cwd: root, timeout: 60_000 });
  const git = async (cwd: string, ...args: string[]) =>
    (
      await exec("git", args, {
        cwd,
        env: {
          PATH: process.env.PATH,
          HOME: dir,
          GIT_CONFIG_NOSYSTEM: "1",
          GIT_TERMINAL_PROMPT: "0",
          GIT_AUTHOR_NAME: "Ada",
          GIT_AUTHOR_EMAIL: "ada@example.com",
          GIT_COMMITTER_NAME: "Ada",
          GIT_COMMITTER_EMAIL: "ada@example.com",
        },
      })
    ).stdout.trim();
  try {
    const [, cloneURL] = await printed(/git clone (http:\/\/127\.0\.0\.1:\d+\/demo\.git)/, "the clone URL");
    await printed(/Stop with Ctrl-C/, "the banner");
    assert.match(output, /webhook\s+http:\/\/127\.0\.0\.1:\d+\/hooks\/github/);
    // The sandbox's own first push, through the webhook: a Build, then its result in chat and on GitHub.
    const [, first] = await printed(
      /push ▸ refs\/heads\/main 0000000\.\.([0-9a-f]{7}) → webhook 201 build created: demo-/,
      "the first push's delivery",
    );
    await printed(new RegExp(`status ▸ ${first} kiln success`), "the first build's commit status");

    const work = join(dir, "demo");
    await git(dir, "clone", "-q", cloneURL!, work);
    writeFileSync(
      join(work, ".kiln.yaml"),
      "image: alpine:3\nsteps:\n  - name: greet\n    run: echo pushed by the sandbox test\n",
    );
    await git(work, "commit", "-q", "-am", "Greet differently");
    await git(work, "push", "-q");
    const sha = (await git(work, "rev-parse", "HEAD")).slice(0, 7);
    const [, build] = await printed(
      new RegExp(
        `push ▸ refs/heads/main ${first}\\.\\.${sha} → webhook 201 build created: (demo-${sha}-[0-9a-z]+)`,
      ),
      "the push's delivery",
    );
    await printed(new RegExp(`status ▸ ${sha} kiln pending`), "the pending commit status");
    await printed(new RegExp(`status ▸ ${sha} kiln success`), "the success commit status");
    await printed(
      new RegExp(`chat ▸ ✅ Passed: kiln-sandbox/demo main\\n\\s+${sha} \\(http://127`),
      "the chat message",
    );

    const table = await kubectl("get", "builds");
    assert.match(table, /NAME\s+REPOSITORY\s+BRANCH\s+COMMIT\s+PHASE\s+DURATION\s+AGE/);
    assert.match(table, new RegExp(`${build}\\s+demo\\s+main\\s+${sha}\\s+Succeeded`));
    const logs = await kubectl("logs", "-l", `kiln.dev/build=${build}`, "-c", "build");
    assert.match(logs, /pushed by the sandbox test/);
    // The build page the banner names lists it, and its log from the store ends with the step's line.
    const [, pages] = /build pages\s+(http:\/\/127\.0\.0\.1:\d+)\/repositories\/default\/demo/.exec(output)!;
    const list = (await (await fetch(`${pages}/repositories/default/demo?format=json`)).json()) as {
      builds: { name: string }[];
    };
    assert.ok(
      list.builds.some((b) => b.name === build),
      `${build} on the build page`,
    );
    assert.match(
      await (await fetch(`${pages}/builds/default/${build}/log?step=greet`)).text(),
      /pushed by the sandbox test/,
    );

    // The console is the chat: a line on stdin is a message from the demo's admin; the bot answers.
    child.stdin.write("/builds\r\n");
    await printed(/you ▸ \/builds\n/, "the line said in the chat");
    await printed(
      new RegExp(`chat ▸ kiln-sandbox/demo: latest builds\\n\\s+✅ ${build} main ${sha} Succeeded`),
      "the bot's answer",
    );

    // A failing step behind a pause: the chat gives the exact way in, and it is a real terminal.
    writeFileSync(
      join(work, ".kiln.yaml"),
      "image: alpine:3\nsteps:\n  - {name: look, type: pause, timeout: 5m}\n  - {name: check, run: 'echo checking; exit 3'}\n",
    );
    await git(work, "commit", "-q", "-am", "Pause, then fail");
    await git(work, "push", "-q");
    const failing = (await git(work, "rev-parse", "HEAD")).slice(0, 7);
    const [, pausedBuild] = await printed(
      new RegExp(`build created: (demo-${failing}-[0-9a-z]+)`),
      "the paused build's delivery",
    );
    const [, execArgs] = await printed(
      new RegExp(
        `chat ▸ ⏸ Paused: kiln-sandbox/demo main ${failing}\\n(?:\\s+.*\\n)*?\\s+kubectl (exec -it \\S+ -c build -n \\S+ -- sh)\\n(?:\\s+.*\\n)*?\\s+\\[▶️ Release\\] \\[⏹ Cancel\\]`,
      ),
      "the paused build's message with the exec line and its buttons",
    );
    const terminal = spawnPty(kubectlPath, ["--kubeconfig", kubeconfig, ...execArgs!.split(" ")]);
    try {
      await terminal.expect(/[#$] /);
      terminal.write("tty\r");
      await terminal.expect(/\/dev\/pts\/\d+/);
      terminal.write("exit\r");
      assert.equal(await terminal.exit, 0, terminal.output);
    } finally {
      terminal.kill();
    }
    // The same through Kiln's CLI, as the README has it: `npx kiln exec` is a terminal too, and
    // `npx kiln logs` prints what the steps printed, under each step's header, and `-f` follows.
    const kilnExec = spawnPty("npx", ["kiln", "exec", pausedBuild!, "--kubeconfig", kubeconfig], {
      cwd: root,
    });
    try {
      await kilnExec.expect(/[#$] /, 30_000);
      kilnExec.write("tty; pwd\r");
      await kilnExec.expect(/\/dev\/pts\/\d+\r*\n\/workspace/);
      kilnExec.write("exit 4\r");
      assert.equal(await kilnExec.exit, 4, kilnExec.output);
    } finally {
      kilnExec.kill();
    }
    // Followed from the pause to the end: the follower's exit code is the build's.
    const follow = kiln("logs", pausedBuild!, "-f").then(
      () => ({ code: 0, stdout: "", stderr: "" }),
      (error: { code: number | null; stdout: string; stderr: string }) => error,
    );
    child.stdin.write(`/release ${pausedBuild}\n`);
    await printed(
      new RegExp(`chat ▸ Released ${pausedBuild}: it goes on now`),
      "the bot's answer to /release",
    );
    await printed(
      new RegExp(`chat ▸ ❌ Failed: kiln-sandbox/demo main\\n\\s+${failing} `),
      "the failure in the chat",
    );
    await printed(new RegExp(`status ▸ ${failing} kiln failure`), "the failure commit status");
    const followed = await follow;
    assert.equal(
      followed.code,
      1,
      `kiln logs -f exits 1, the build failed:\n${followed.stdout}\n${followed.stderr}`,
    );
    assert.match(followed.stdout, /==> check\n(.*\n)*checking/);
    const { stdout: log } = await kiln("logs", pausedBuild!);
    assert.match(log, /==> check\n(.*\n)*checking/);
    // The same log from the store, as the banner says to read it.
    const [, storeURL] = /store +(http:\/\/127\.0\.0\.1:\d+)/.exec(output) ?? [];
    assert.ok(storeURL, `the banner names the store:\n${output}`);
    const stored = await waitFor("the failed build's log in the store", async () => {
      const { stdout } = await kiln("logs", pausedBuild!, "--store", storeURL!);
      return /==> check\n(.*\n)*checking/.test(stdout) ? stdout : undefined;
    });
    assert.equal(stored, log);

    // A newer push to the branch cancels the running build (cancelSuperseded, on by default).
    writeFileSync(join(work, ".kiln.yaml"), "image: alpine:3\nsteps:\n  - {name: slow, run: sleep 300}\n");
    await git(work, "commit", "-q", "-am", "Slow");
    await git(work, "push", "-q");
    const slow = (await git(work, "rev-parse", "HEAD")).slice(0, 7);
    const [, slowBuild] = await printed(
      new RegExp(`build created: (demo-${slow}-[0-9a-z]+)`),
      "the slow push",
    );
    await waitFor(
      "the slow build to run",
      async () =>
        (await kubectl("get", "build", slowBuild!, "-o", "jsonpath={.status.phase}")) === "Running" ||
        undefined,
      30_000,
    );
    writeFileSync(join(work, ".kiln.yaml"), "image: alpine:3\nsteps:\n  - {name: quick, run: 'true'}\n");
    await git(work, "commit", "-q", "-am", "Quick");
    await git(work, "push", "-q");
    const quick = (await git(work, "rev-parse", "HEAD")).slice(0, 7);
    await printed(new RegExp(`status ▸ ${slow} kiln error`), "the superseded build's commit status");
    assert.equal(
      await kubectl("get", "build", slowBuild!, "-o", "jsonpath={.status.phase}/{.status.reason}"),
      "Cancelled/Superseded",
    );
    await printed(new RegExp(`status ▸ ${quick} kiln success`), "the newer push's success");

    // A Build by hand, of a branch's head: `npx kiln build demo main`, then its log to the end.
    const manual = (await kiln("build", "demo", "main")).stdout.trim();
    assert.match(manual, /^demo-/);
    await kiln("logs", manual, "-f");
    assert.match(
      await kubectl("get", "build", manual),
      new RegExp(`${manual}\\s+demo\\s+main\\s+${quick}\\s+Succeeded`),
    );
    assert.match((await kiln("get", "demo")).stdout, new RegExp(manual));
  } finally {
    process.kill(-child.pid!, "SIGINT");
  }
  const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 15_000);
  const ended = await exited;
  clearTimeout(timer);
  // npm ends by the signal it was sent, as it does at a terminal; the sandbox under it stops cleanly
  // (an error while stopping would be logged, and a sandbox that did not stop would need the SIGKILL).
  assert.ok(ended === "SIGINT" || ended === "0", `ended by ${ended}; output:\n${output}\n${errors}`);
  assert.doesNotMatch(errors, /"level":(50|60)/, "no error while stopping");
});
