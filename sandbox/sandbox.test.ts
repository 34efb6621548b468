// The README's first command, as a person uses it: `kiln sandbox` starts all of Kiln on one machine
// and pushes the demo pipeline itself; then a clone of the printed URL, an edited .kiln.yaml and a
// `git push` (the real git) make a Build (checked with real kubectl), a chat message and commit
// statuses on the console; a line on the console's stdin (a pipe) is a chat message the bot answers,
// a button's label presses it. Ctrl-C stops it all cleanly.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, test } from "node:test";
import { promisify } from "node:util";
import { waitFor } from "../test/wait-for.ts";

const exec = promisify(execFile);
const root = resolve(import.meta.dirname, "..");
const kubectlPath = resolve(root, ".tools/bin/kubectl");
const dir = mkdtempSync(join(tmpdir(), "kiln-sandbox-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("kiln sandbox: git push → webhook → Build → chat → commit status, a chat on stdin, stops on SIGINT", async () => {
  const kubeconfig = join(dir, "kubeconfig");
  const child = spawn(
    process.execPath,
    [
      ...["bin/kiln.ts", "sandbox", "--port", "0", "--webhook-port", "0"],
      ...["--github-port", "0", "--telegram-port", "0", "--kubeconfig", kubeconfig],
    ],
    { cwd: root, stdio: ["pipe", "pipe", "pipe"] },
  );
  let output = "";
  let errors = "";
  child.stdout.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    errors += d.toString();
  });
  const exited = new Promise<number | null>((done) => child.on("close", (code) => done(code)));
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

    // The console is the chat: a line on stdin is a message from the demo's admin; the bot answers.
    child.stdin.write("/builds\r\n");
    await printed(/you ▸ \/builds\n/, "the line said in the chat");
    await printed(
      new RegExp(`chat ▸ kiln-sandbox/demo: latest builds\\n\\s+✅ ${build} main ${sha} Succeeded`),
      "the bot's answer",
    );

    // A build paused at a step: its message has buttons; typing a label presses one.
    writeFileSync(
      join(work, ".kiln.yaml"),
      "image: alpine:3\nsteps:\n  - {name: look, type: pause, timeout: 5m}\n  - {name: after, run: echo released}\n",
    );
    await git(work, "commit", "-q", "-am", "Pause");
    await git(work, "push", "-q");
    const paused = (await git(work, "rev-parse", "HEAD")).slice(0, 7);
    await printed(
      new RegExp(
        `chat ▸ ⏸ Paused: kiln-sandbox/demo main ${paused}\\n(\\s+.*\\n)*\\s+\\[▶️ Release\\] \\[⏹ Cancel\\]`,
      ),
      "the paused build's message with its buttons",
    );
    child.stdin.write("release\n");
    await printed(/you ▸ \[▶️ Release\]\n/, "the press on the console");
    await printed(/chat ▸ \(on the button\) Released demo-/, "the bot's answer on the button");
    await printed(new RegExp(`status ▸ ${paused} kiln success`), "the released build's success");
  } finally {
    child.kill("SIGINT");
  }
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  const code = await exited;
  clearTimeout(timer);
  assert.equal(code, 0, `exit on SIGINT; output:\n${output}\n${errors}`);
});
