// `kiln fetch` against real git: a local repository served over smart HTTP by `git http-backend`,
// behind a server that demands the token, so the credential path is the one a pod uses.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { main as fetchMain, gitAuthEnv } from "../../agent/fetch.ts";
import { FIFOS, RUNNER_FILE } from "../../api/pod-protocol.ts";
import { serveGitHttp } from "../../stand-ins/git-repo.ts";

const TOKEN = "ghs_secretToken123";
const base = mkdtempSync(join(tmpdir(), "kiln-fetch-"));
const repo = join(base, "repo");
const git = (...args: string[]) =>
  execFileSync("git", ["-C", repo, ...args], {
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@example.com",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@example.com",
    },
  })
    .toString()
    .trim();
let first = "";
let second = "";
let server: Server;
let url = "";
const seenAuth: (string | undefined)[] = [];

before(async () => {
  execFileSync("git", ["init", "-q", "-b", "main", repo]);
  writeFileSync(join(repo, "file.txt"), "one\n");
  git("add", ".");
  git("commit", "-q", "-m", "one");
  first = git("rev-parse", "HEAD");
  writeFileSync(join(repo, "file.txt"), "two\n");
  git("commit", "-q", "-am", "two");
  second = git("rev-parse", "HEAD");
  // Smart HTTP through git http-backend (CGI), only with the right Basic credentials.
  server = createServer((req, res) => {
    seenAuth.push(req.headers.authorization);
    const expected = `Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString("base64")}`;
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { "www-authenticate": 'Basic realm="test"' });
      res.end();
      return;
    }
    serveGitHttp(base, req, res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/repo`;
});
after(() => {
  server?.close();
  rmSync(base, { recursive: true, force: true });
});

function captureStderr<T>(fn: () => Promise<T>): Promise<{ value: T; stderr: string; stdout: string }> {
  const origErr = console.error;
  const origLog = console.log;
  let stderr = "";
  let stdout = "";
  console.error = (...a: unknown[]) => {
    stderr += `${a.join(" ")}\n`;
  };
  console.log = (...a: unknown[]) => {
    stdout += `${a.join(" ")}\n`;
  };
  return fn()
    .then((value) => ({ value, stderr, stdout }))
    .finally(() => {
      console.error = origErr;
      console.log = origLog;
    });
}

describe("kiln fetch", () => {
  test("fetches exactly the asked commit (not the tip), shallow, with the token as a header only", async () => {
    const dest = join(base, "pod1");
    const tokenFile = join(base, "token");
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const ws = join(dest, "workspace");
    const kiln = join(dest, "kiln");
    const r = await captureStderr(() =>
      fetchMain([
        "--url",
        url,
        "--sha",
        first,
        "--workspace",
        ws,
        "--kiln-dir",
        kiln,
        "--token-file",
        tokenFile,
      ]),
    );
    assert.equal(r.value, 0, r.stderr);
    assert.equal(readFileSync(join(ws, "file.txt"), "utf8"), "one\n");
    const g = (...a: string[]) =>
      execFileSync("git", ["-C", ws, ...a])
        .toString()
        .trim();
    assert.equal(g("rev-parse", "HEAD"), first);
    assert.equal(g("rev-list", "--count", "HEAD"), "1", "shallow: one commit only");
    assert.ok(existsSync(join(ws, ".git", "shallow")));
    assert.ok(seenAuth.some((a) => a?.startsWith("Basic ")));
    // The token is nowhere on disk in the workspace, nor in what the command printed.
    assert.doesNotMatch(readFileSync(join(ws, ".git", "config"), "utf8"), /Authorization|secretToken/);
    const basic = Buffer.from(`x-access-token:${TOKEN}`).toString("base64");
    for (const file of readdirSync(ws, { recursive: true, withFileTypes: true })) {
      if (!file.isFile()) continue;
      const text = readFileSync(join(file.parentPath, file.name), "latin1");
      assert.ok(!text.includes(TOKEN) && !text.includes(basic), `token found in ${file.name}`);
    }
    assert.doesNotMatch(r.stdout + r.stderr, /secretToken/);
    // The shared dir: the runner and the four FIFOs.
    assert.ok(statSync(join(kiln, RUNNER_FILE)).isFile());
    for (const f of Object.values(FIFOS)) {
      const st = statSync(join(kiln, f));
      assert.ok(st.isFIFO(), `${f} is a FIFO`);
      // The build container runs as another user that shares the pod's fsGroup.
      assert.equal(st.mode & 0o660, 0o660, `${f} is open to the pod's group`);
    }
    assert.equal(statSync(kiln).mode & 0o070, 0o070, "the group may add files (resume, stop marks)");
    assert.equal(statSync(join(ws, "file.txt")).mode & 0o060, 0o060, "the checkout is group-writable");
  });

  test("without the token the server refuses, and the error says so without secrets", async () => {
    const r = await captureStderr(() =>
      fetchMain([
        "--url",
        url,
        "--sha",
        second,
        "--workspace",
        join(base, "pod2", "ws"),
        "--kiln-dir",
        join(base, "pod2", "kiln"),
      ]),
    );
    assert.equal(r.value, 1);
    assert.match(r.stderr, /kiln fetch: .*(401|Authentication|could not read Username)/i);
  });

  test("rejects credentials in the URL, short shas and missing flags", async () => {
    const withCreds = url.replace("http://", "http://user:pw@");
    let r = await captureStderr(() =>
      fetchMain([
        "--url",
        withCreds,
        "--sha",
        first,
        "--workspace",
        join(base, "p3"),
        "--kiln-dir",
        join(base, "k3"),
      ]),
    );
    assert.equal(r.value, 1);
    assert.match(r.stderr, /must not carry credentials/);
    r = await captureStderr(() =>
      fetchMain([
        "--url",
        url,
        "--sha",
        "abc",
        "--workspace",
        join(base, "p4"),
        "--kiln-dir",
        join(base, "k4"),
      ]),
    );
    assert.equal(r.value, 1);
    assert.match(r.stderr, /not a full commit sha/);
    r = await captureStderr(() => fetchMain(["--url", url]));
    assert.equal(r.value, 2);
  });

  test("gitAuthEnv puts the header in git's env config, nothing without a token", () => {
    assert.deepEqual(gitAuthEnv(undefined), {});
    const env = gitAuthEnv("tok");
    assert.equal(env.GIT_CONFIG_KEY_0, "http.extraHeader");
    assert.equal(
      env.GIT_CONFIG_VALUE_0,
      `Authorization: Basic ${Buffer.from("x-access-token:tok").toString("base64")}`,
    );
  });
});
