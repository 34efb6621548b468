// A git-backed repository of the fake, driven with the real git: clone, commit, push. Every push
// delivers a signed push event (checked with @octokit/webhooks-methods, as Kiln's webhook checks it)
// whose refs and commits are the pushed ones; the REST API then answers from the pushed objects.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { Octokit } from "@octokit/rest";
import { verify } from "@octokit/webhooks-methods";
import { type CommitStatus, type FakeGitHub, startFakeGitHub } from "./index.ts";
import { ZERO_SHA } from "./push-event.ts";

const exec = promisify(execFile);
const SECRET = "push-secret";

interface Received {
  event: string;
  headers: Record<string, string | string[] | undefined>;
  signature: string;
  body: string;
  payload: Record<string, unknown> & { commits: Array<Record<string, unknown>> };
}

describe("a git-backed repository of the fake GitHub", () => {
  let gh: FakeGitHub;
  let octokit: Octokit;
  let home: string;
  let work: string;
  const received: Received[] = [];
  const receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      received.push({
        event: String(req.headers["x-github-event"]),
        headers: req.headers,
        signature: String(req.headers["x-hub-signature-256"]),
        body,
        payload: JSON.parse(body),
      });
      res.writeHead(202, { "content-type": "application/json" }).end("{}");
    });
  });

  /** git as a person runs it: no config of this machine's user, no prompts. */
  async function git(cwd: string, ...args: string[]): Promise<string> {
    const env = {
      PATH: process.env.PATH,
      HOME: home,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_TERMINAL_PROMPT: "0",
      GIT_AUTHOR_NAME: "Ada Lovelace",
      GIT_AUTHOR_EMAIL: "ada@example.com",
      GIT_COMMITTER_NAME: "Ada Lovelace",
      GIT_COMMITTER_EMAIL: "ada@example.com",
    };
    return (await exec("git", args, { cwd, env })).stdout.trim();
  }

  async function commitFile(path: string, content: string, message: string): Promise<string> {
    await writeFile(join(work, path), content);
    await git(work, "add", "-A");
    await git(work, "commit", "-q", "-m", message);
    return git(work, "rev-parse", "HEAD");
  }

  /** Pushes, then waits until every delivery the push caused is answered; returns those. */
  async function push(...args: string[]): Promise<Received[]> {
    const seen = received.length;
    await git(work, "push", "-q", "origin", ...args);
    await gh.settled();
    return received.slice(seen).filter((r) => r.event === "push");
  }

  before(async () => {
    home = await mkdtemp(join(tmpdir(), "kiln-git-push-"));
    gh = await startFakeGitHub();
    gh.addToken("admin-token", { login: "kiln-bot" });
    gh.addToken("read-token", { login: "reader", permission: "read" });
    await gh.addGitRepository("acme", "app", { alias: "app", anonymousPush: true });
    await gh.addGitRepository("acme", "private", { private: true });
    await gh.addGitRepository("acme", "locked");
    octokit = new Octokit({ auth: "admin-token", baseUrl: gh.url });
    receiver.listen(0, "127.0.0.1");
    await once(receiver, "listening");
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/github`;
    await octokit.repos.createWebhook({
      owner: "acme",
      repo: "app",
      config: { url, content_type: "json", secret: SECRET },
      events: ["push"],
    });
    await gh.settled(); // the ping
    work = join(home, "app");
    await git(home, "clone", "-q", gh.gitURL("acme", "app"), work);
  });
  after(async () => {
    receiver.close();
    await gh.stop(); // throws on drift from GitHub's OpenAPI description
    await rm(home, { recursive: true, force: true });
  });

  test("the first push creates main: a signed push event with the pushed commit; contents read the pushed .kiln.yaml", async () => {
    const first = "# The app's first pipeline\nsteps:\n  - {name: one, run: echo one}\n";
    const sha = await commitFile(".kiln.yaml", first, "First pipeline");
    const [delivery, ...more] = await push("main");
    assert.equal(more.length, 0);
    assert.ok(await verify(SECRET, delivery!.body, delivery!.signature), "the signature verifies");
    assert.match(String(delivery!.headers["user-agent"]), /^GitHub-Hookshot\//);
    assert.match(String(delivery!.headers["x-github-delivery"]), /^[0-9a-f-]{36}$/);
    const p = delivery!.payload;
    assert.equal(p.ref, "refs/heads/main");
    assert.equal(p.before, ZERO_SHA);
    assert.equal(p.after, sha);
    assert.deepEqual([p.created, p.deleted, p.forced], [true, false, false]);
    assert.equal(p.compare, `${gh.url}/acme/app/commit/${sha}`);
    assert.deepEqual(
      p.commits.map((c) => [c.id, c.message, c.added, c.distinct]),
      [[sha, "First pipeline", [".kiln.yaml"], true]],
    );
    assert.equal((p.head_commit as { id: string }).id, sha);
    assert.deepEqual(p.pusher, { name: "acme", email: "acme@users.noreply.github.com" });
    assert.equal((p.repository as { full_name: string }).full_name, "acme/app");
    assert.equal((p.repository as { clone_url: string }).clone_url, gh.gitURL("acme", "app"));

    const { data } = await octokit.repos.getContent({
      owner: "acme",
      repo: "app",
      path: ".kiln.yaml",
      ref: sha,
    });
    assert.ok(!Array.isArray(data) && data.type === "file");
    const file = data as { content: string; sha: string };
    assert.match(
      file.content,
      /^([A-Za-z0-9+/]{60}\n)*[A-Za-z0-9+/=]{1,60}\n$/,
      "base64 in lines of 60, as GitHub",
    );
    assert.ok(file.content.split("\n").length > 2, "more than one line");
    assert.equal(Buffer.from(file.content, "base64").toString(), first);
    assert.equal(file.sha, await git(work, "rev-parse", `${sha}:.kiln.yaml`));
    const ref = await octokit.git.getRef({ owner: "acme", repo: "app", ref: "heads/main" });
    assert.equal(ref.data.object.sha, sha);
  });

  test("the next push: before..after, the changed file as modified, contents at each commit as it was", async () => {
    const first = await git(work, "rev-parse", "HEAD");
    const second = await commitFile(".kiln.yaml", "steps:\n  - {name: two, run: echo two}\n", "Second");
    const third = await commitFile("README.md", "# App\n", "Docs");
    const [delivery] = await push("main");
    const p = delivery!.payload;
    assert.equal(p.before, first);
    assert.equal(p.after, third);
    assert.deepEqual([p.created, p.deleted, p.forced], [false, false, false]);
    assert.equal(p.compare, `${gh.url}/acme/app/compare/${first.slice(0, 12)}...${third.slice(0, 12)}`);
    assert.deepEqual(
      p.commits.map((c) => [c.id, c.added, c.modified]),
      [
        [second, [], [".kiln.yaml"]],
        [third, ["README.md"], []],
      ],
    );
    const read = async (ref: string) => {
      const { data } = await octokit.repos.getContent({
        owner: "acme",
        repo: "app",
        path: ".kiln.yaml",
        ref,
      });
      return Buffer.from((data as { content: string }).content, "base64").toString();
    };
    assert.match(await read(third), /name: two/);
    assert.match(await read(first), /name: one/);
    assert.match(await read("main"), /name: two/);
    await assert.rejects(
      octokit.repos.getContent({ owner: "acme", repo: "app", path: "README.md", ref: first }),
      (e: { status?: number }) => e.status === 404,
    );
  });

  test("a new branch and its deletion: created with the head commit, then deleted with after all zeros", async () => {
    const head = await git(work, "rev-parse", "HEAD");
    const [created] = await push("HEAD:refs/heads/topic");
    assert.equal(created!.payload.ref, "refs/heads/topic");
    assert.deepEqual([created!.payload.created, created!.payload.deleted], [true, false]);
    assert.equal(created!.payload.compare, `${gh.url}/acme/app/compare/topic`);
    assert.deepEqual(created!.payload.commits, [], "no commit is new to the repository");
    assert.deepEqual(
      [
        (created!.payload.head_commit as { id: string; distinct: boolean }).id,
        (created!.payload.head_commit as { distinct: boolean }).distinct,
      ],
      [head, false],
    );
    const [deleted] = await push(":topic");
    assert.ok(await verify(SECRET, deleted!.body, deleted!.signature));
    assert.equal(deleted!.payload.before, head);
    assert.equal(deleted!.payload.after, ZERO_SHA);
    assert.deepEqual([deleted!.payload.created, deleted!.payload.deleted], [false, true]);
    assert.equal(deleted!.payload.head_commit, null);
    assert.deepEqual(deleted!.payload.commits, []);
    await assert.rejects(
      octokit.git.getRef({ owner: "acme", repo: "app", ref: "heads/topic" }),
      (e: { status?: number }) => e.status === 404,
    );
  });

  test("a forced push says forced; deleting the default branch is refused and delivers nothing", async () => {
    const old = await git(work, "rev-parse", "HEAD");
    await git(work, "commit", "-q", "--amend", "-m", "Docs, amended");
    const amended = await git(work, "rev-parse", "HEAD");
    const [forced] = await push("--force", "main");
    assert.deepEqual(
      [forced!.payload.before, forced!.payload.after, forced!.payload.forced],
      [old, amended, true],
    );

    const seen = received.length;
    await assert.rejects(git(work, "push", "-q", "origin", ":main"), /refusing to delete the current branch/);
    await gh.settled();
    assert.equal(received.length, seen);
  });

  test("the short alias clones the same repository; credentials sent up front are checked", async () => {
    await assert.rejects(gh.addGitRepository("acme", "../escape"), /a repository name is letters, digits/);
    await assert.rejects(gh.addGitRepository("acme", "app"), /already has a repository acme\/app/);
    const clone = join(home, "alias");
    await git(home, "clone", "-q", `${gh.url}/app.git`, clone);
    assert.equal(await git(clone, "rev-parse", "HEAD"), await git(work, "rev-parse", "HEAD"));
    // As Kiln's fetch sends its token: a header on every request, not only after a 401.
    const header = (token: string) =>
      `http.extraHeader=Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}`;
    await assert.rejects(
      git(work, "-c", header("read-token"), "push", "-q", "origin", "HEAD:refs/heads/ro"),
      /denied to reader/,
    );
    // 401 with a challenge: git would ask for other credentials (none here).
    await assert.rejects(
      git(work, "-c", header("wrong"), "ls-remote", "origin"),
      /could not read Username|Authentication failed/,
    );
    assert.match(await git(work, "-c", header("read-token"), "ls-remote", "origin"), /refs\/heads\/main/);
    // Without anonymousPush, as on GitHub: a public repository clones without credentials, a push needs them.
    const locked = `${gh.url}/acme/locked.git`;
    await assert.rejects(
      git(work, "push", "-q", locked, "HEAD:refs/heads/main"),
      /could not read Username|Authentication failed/,
    );
    await git(work, "-c", header("admin-token"), "push", "-q", locked, "HEAD:refs/heads/main");
    assert.match(await git(work, "ls-remote", locked), /refs\/heads\/main/);
  });

  test("a private repository needs a token to clone", async () => {
    await assert.rejects(
      git(home, "ls-remote", gh.gitURL("acme", "private")),
      /Authentication failed|could not read Username/,
    );
    const withToken = gh.gitURL("acme", "private").replace("http://", "http://x-access-token:admin-token@");
    assert.equal(await git(home, "ls-remote", withToken), "");
  });

  test("the commit page lists the commit's statuses as they arrive, and the status event tells who listens", async () => {
    const sha = await git(work, "rev-parse", "HEAD");
    const heard: Array<[string, CommitStatus]> = [];
    const listener = (_repo: unknown, at: string, status: CommitStatus) => heard.push([at, status]);
    gh.events.on("status", listener);
    await octokit.repos.createCommitStatus({
      owner: "acme",
      repo: "app",
      sha,
      state: "pending",
      context: "kiln",
      description: "Running <step>",
    });
    await octokit.repos.createCommitStatus({
      owner: "acme",
      repo: "app",
      sha,
      state: "success",
      context: "kiln",
      description: "Passed in 3s",
      target_url: "http://127.0.0.1:1/builds/default/app-1",
    });
    gh.events.off("status", listener);
    assert.deepEqual(
      heard.map(([at, s]) => [at, s.state, s.context]),
      [
        [sha, "pending", "kiln"],
        [sha, "success", "kiln"],
      ],
    );
    const page = await fetch(`${gh.url}/acme/app/commit/${sha}`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
    const html = await page.text();
    const current = html.slice(html.indexOf('id="statuses"'), html.indexOf('id="history"'));
    assert.match(current, /success<\/td><td><code>kiln<\/code><\/td><td>Passed in 3s<\/td>/);
    assert.match(current, /href="http:\/\/127\.0\.0\.1:1\/builds\/default\/app-1"/);
    assert.doesNotMatch(current, /pending/, "only the newest status of each context on top");
    assert.match(html, /Running &#60;step&#62;/, "descriptions are escaped in the history");
    assert.equal((await fetch(`${gh.url}/acme/app/commit/${"0".repeat(40)}`)).status, 404);
    const repoPage = await (await fetch(`${gh.url}/acme/app`)).text();
    assert.match(
      repoPage,
      new RegExp(`main</code></td><td><code><a href="[^"]+/commit/${sha}">${sha.slice(0, 7)}`),
    );
  });
});
