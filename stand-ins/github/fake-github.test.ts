import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { Octokit } from "@octokit/rest";
import { verify } from "@octokit/webhooks-methods";
import { type FakeGitHub, startFakeGitHub } from "./index.ts";
import { checkResponse } from "./openapi.ts";

describe("fake GitHub", () => {
  let gh: FakeGitHub;
  let octokit: Octokit;
  const received: Array<{ headers: Record<string, string | string[] | undefined>; body: string }> = [];
  let answer = 200;
  const receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      // A 3xx points back here: a client following redirects would come again (and again).
      const location = answer >= 300 && answer < 400 ? { location: hookURL } : {};
      res.writeHead(answer, { "content-type": "application/json", ...location }).end("{}");
    });
  });
  let hookURL = "";

  before(async () => {
    gh = await startFakeGitHub();
    gh.addToken("admin-token", { login: "ada" });
    gh.addToken("read-token", { login: "reader", permission: "read" });
    gh.addRepository("acme", "api");
    gh.addRepository("acme", "secret", { private: true });
    gh.addToken("outsider", { login: "eve", permission: "none" });
    octokit = new Octokit({ auth: "admin-token", baseUrl: gh.url });
    receiver.listen(0, "127.0.0.1");
    await once(receiver, "listening");
    hookURL = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/github`;
  });
  after(async () => {
    receiver.close();
    await gh.stop(); // throws on any drift from GitHub's OpenAPI description
  });

  test("hooks: create (with a signed ping), list, get, update, delete; a second hook with the same URL is 422", async () => {
    const created = await octokit.repos.createWebhook({
      owner: "acme",
      repo: "api",
      config: { url: hookURL, content_type: "json", secret: "s3cret" },
      events: ["push", "pull_request"],
    });
    assert.equal(created.status, 201);
    assert.equal(created.data.config.secret, "********");
    await gh.settled();
    const ping = received.at(-1)!;
    assert.equal(ping.headers["x-github-event"], "ping");
    assert.ok(await verify("s3cret", ping.body, String(ping.headers["x-hub-signature-256"])));
    await assert.rejects(
      octokit.repos.createWebhook({ owner: "acme", repo: "api", config: { url: hookURL } }),
      (err: { status: number }) => err.status === 422,
    );
    const list = await octokit.repos.listWebhooks({ owner: "acme", repo: "api" });
    assert.equal(list.data.length, 1);
    const updated = await octokit.repos.updateWebhook({
      owner: "acme",
      repo: "api",
      hook_id: created.data.id,
      config: { url: hookURL, content_type: "json", secret: "n3w" },
      events: ["push"],
    });
    assert.deepEqual(updated.data.events, ["push"]);
    assert.equal(gh.hooks("acme", "api")[0]!.config.secret, "n3w");
    await octokit.repos.deleteWebhook({ owner: "acme", repo: "api", hook_id: created.data.id });
    assert.equal(gh.hooks("acme", "api").length, 0);
    await assert.rejects(
      octokit.repos.getWebhook({ owner: "acme", repo: "api", hook_id: created.data.id }),
      (err: { status: number }) => err.status === 404,
    );
  });

  test("deliveries record failures; a redelivery resends the same GUID and signature", async () => {
    const { data: hook } = await octokit.repos.createWebhook({
      owner: "acme",
      repo: "api",
      config: { url: hookURL, content_type: "json", secret: "s3cret" },
      events: ["push"],
    });
    await gh.settled();
    answer = 503;
    const { deliveries, commit } = await gh.push("acme", "api", "main", { message: "Fix" });
    assert.equal(deliveries.length, 1);
    assert.equal(deliveries[0]!.status_code, 503);
    const push = JSON.parse(received.at(-1)!.body);
    assert.equal(push.after, commit.sha);
    assert.equal(push.ref, "refs/heads/main");
    const failed = await octokit.repos.listWebhookDeliveries({
      owner: "acme",
      repo: "api",
      hook_id: hook.id,
      status: "failure",
    });
    assert.deepEqual(
      failed.data.map((d) => d.status_code),
      [503],
    );
    answer = 200;
    const redeliver = await octokit.repos.redeliverWebhookDelivery({
      owner: "acme",
      repo: "api",
      hook_id: hook.id,
      delivery_id: failed.data[0]!.id,
    });
    assert.equal(redeliver.status, 202);
    await gh.settled();
    const again = received.at(-1)!;
    assert.equal(again.headers["x-github-delivery"], deliveries[0]!.guid);
    const all = await octokit.repos.listWebhookDeliveries({ owner: "acme", repo: "api", hook_id: hook.id });
    assert.deepEqual(
      all.data.map((d) => [d.event, d.status_code, d.redelivery]),
      [
        ["push", 200, true],
        ["push", 503, false],
        ["ping", 200, false],
      ],
    );
    const one = await octokit.repos.getWebhookDelivery({
      owner: "acme",
      repo: "api",
      hook_id: hook.id,
      delivery_id: all.data[0]!.id,
    });
    assert.equal(one.data.guid, deliveries[0]!.guid);
  });

  test("a hook without content_type gets form bodies, signed as sent; a redirect is a failed delivery, not followed", async () => {
    gh.addRepository("acme", "forms");
    await octokit.repos.createWebhook({
      owner: "acme",
      repo: "forms",
      config: { url: hookURL, secret: "s3cret" },
      events: ["push"],
    });
    await gh.settled();
    const ping = received.at(-1)!;
    assert.equal(ping.headers["content-type"], "application/x-www-form-urlencoded");
    assert.ok(await verify("s3cret", ping.body, String(ping.headers["x-hub-signature-256"])));
    assert.equal(
      JSON.parse(new URLSearchParams(ping.body).get("payload")!).zen,
      "Keep it logically awesome.",
    );

    answer = 302;
    const count = received.length;
    try {
      const { deliveries } = await gh.push("acme", "forms", "main");
      assert.equal(deliveries[0]!.status_code, 302);
      assert.equal(received.length, count + 1);
    } finally {
      answer = 200;
    }
  });

  test("branches, refs, commits and contents", async () => {
    const { commit } = await gh.push("acme", "api", "release/1", {
      message: "Ship",
      files: { ".kiln.yaml": "steps: []\n" },
      deliver: false,
    });
    const branches = await octokit.repos.listBranches({ owner: "acme", repo: "api" });
    assert.deepEqual(
      branches.data.map((b) => b.name),
      ["main", "release/1"],
    );
    const ref = await octokit.git.getRef({ owner: "acme", repo: "api", ref: "heads/release/1" });
    assert.equal(ref.data.object.sha, commit.sha);
    const got = await octokit.repos.getCommit({ owner: "acme", repo: "api", ref: "release/1" });
    assert.equal(got.data.commit.message, "Ship");
    const content = await octokit.repos.getContent({
      owner: "acme",
      repo: "api",
      path: ".kiln.yaml",
      ref: commit.sha,
    });
    assert.ok(!Array.isArray(content.data) && content.data.type === "file");
    assert.equal(
      Buffer.from((content.data as { content: string }).content, "base64").toString(),
      "steps: []\n",
    );
    await assert.rejects(
      octokit.repos.getContent({ owner: "acme", repo: "api", path: "nope", ref: "main" }),
      (err: { status: number }) => err.status === 404,
    );
  });

  test("lists page with Link headers that Octokit's paginate follows", async () => {
    for (let i = 0; i < 120; i++) gh.commit("acme", "api", `topic/${String(i).padStart(3, "0")}`);
    const first = await octokit.repos.listBranches({ owner: "acme", repo: "api", per_page: 50 });
    assert.equal(first.data.length, 50);
    assert.match(first.headers.link ?? "", /page=2>; rel="next", .*; rel="last"/);
    const all = await octokit.paginate(octokit.repos.listBranches, {
      owner: "acme",
      repo: "api",
      per_page: 50,
    });
    assert.equal(all.length, gh.repository("acme", "api").branches.size);
    assert.ok(all.length > 120);
  });

  test("statuses: create, list newest first, combined state", async () => {
    const sha = gh.repository("acme", "api").branches.get("main")!;
    await octokit.repos.createCommitStatus({
      owner: "acme",
      repo: "api",
      sha,
      state: "pending",
      context: "kiln",
      target_url: "https://kiln.example/b/1",
    });
    await octokit.repos.createCommitStatus({
      owner: "acme",
      repo: "api",
      sha,
      state: "failure",
      context: "kiln",
      description: "test failed",
    });
    const list = await octokit.repos.listCommitStatusesForRef({ owner: "acme", repo: "api", ref: sha });
    assert.deepEqual(
      list.data.map((s) => s.state),
      ["failure", "pending"],
    );
    const combined = await octokit.repos.getCombinedStatusForRef({ owner: "acme", repo: "api", ref: sha });
    assert.equal(combined.data.state, "failure");
    assert.equal(combined.data.total_count, 1);
    assert.deepEqual(
      gh.statuses("acme", "api", sha).map((s) => s.state),
      ["pending", "failure"],
    );
    await assert.rejects(
      octokit.repos.createCommitStatus({ owner: "acme", repo: "api", sha: "f".repeat(40), state: "success" }),
      (err: { status: number }) => err.status === 422,
    );
  });

  test("a commit status description over 140 characters is 422 Validation Failed, as GitHub answers it", async () => {
    const sha = gh.repository("acme", "api").branches.get("main")!;
    const post = (description: string) =>
      fetch(`${gh.url}/repos/acme/api/statuses/${sha}`, {
        method: "POST",
        headers: { authorization: "token admin-token", "content-type": "application/json" },
        body: JSON.stringify({ state: "failure", context: "long", description }),
      });
    const before = gh.statuses("acme", "api", sha).length;
    // Characters are code points: 140 astral characters are 280 UTF-16 units and still fit.
    for (const fits of ["x".repeat(140), "🚀".repeat(140), `${"é".repeat(139)}…`]) {
      assert.equal((await post(fits)).status, 201, `${fits.length} UTF-16 units`);
    }
    for (const over of ["x".repeat(141), "🚀".repeat(141), "x".repeat(5000)]) {
      const refused = await post(over);
      assert.equal(refused.status, 422);
      assert.deepEqual(await refused.json(), {
        message: "Validation Failed",
        errors: [
          {
            resource: "Status",
            code: "custom",
            field: "description",
            message: "description is too long (maximum is 140 characters)",
          },
        ],
        documentation_url: "https://docs.github.com/rest/commits/statuses#create-a-commit-status",
        status: "422",
      });
    }
    assert.equal(gh.statuses("acme", "api", sha).length, before + 3, "a refused status is not recorded");
    await assert.rejects(
      octokit.repos.createCommitStatus({
        owner: "acme",
        repo: "api",
        sha,
        state: "success",
        description: "y".repeat(141),
      }),
      (err: { status: number; message: string }) =>
        err.status === 422 && /description is too long \(maximum is 140 characters\)/.test(err.message),
    );
  });

  test("auth: no token 401, bad token 401, read-only token 403 on hooks, invisible private repo 404", async () => {
    const status = (p: Promise<unknown>) =>
      p.then(
        () => 200,
        (err: { status: number }) => err.status,
      );
    assert.equal(
      await status(new Octokit({ baseUrl: gh.url }).repos.listWebhooks({ owner: "acme", repo: "api" })),
      401,
    );
    assert.equal(
      await status(
        new Octokit({ auth: "nope", baseUrl: gh.url }).repos.listWebhooks({ owner: "acme", repo: "api" }),
      ),
      401,
    );
    const reader = new Octokit({ auth: "read-token", baseUrl: gh.url });
    assert.equal(await status(reader.repos.listWebhooks({ owner: "acme", repo: "api" })), 403);
    assert.equal(await status(reader.repos.listBranches({ owner: "acme", repo: "api" })), 200);
    const outsider = new Octokit({ auth: "outsider", baseUrl: gh.url });
    assert.equal(await status(outsider.repos.listBranches({ owner: "acme", repo: "secret" })), 404);
    assert.equal(await status(octokit.repos.listBranches({ owner: "acme", repo: "missing" })), 404);
  });

  test("injected failures and rate-limit headers", async () => {
    gh.failNext({ path: "/branches", status: 429, retryAfter: 7 });
    gh.failNext({ method: "GET", path: /\/hooks$/, status: 502, times: 2 });
    const raw = (path: string) =>
      fetch(`${gh.url}${path}`, { headers: { authorization: "token admin-token" } });
    const limited = await raw("/repos/acme/api/branches");
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("retry-after"), "7");
    assert.equal((await raw("/repos/acme/api/hooks")).status, 502);
    assert.equal((await raw("/repos/acme/api/hooks")).status, 502);
    const ok = await raw("/repos/acme/api/hooks");
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("x-ratelimit-limit"), "5000");
    assert.ok(Number(ok.headers.get("x-ratelimit-remaining")) < 5000);
    gh.setRateLimit(10, 10);
    const exhausted = await raw("/repos/acme/api/hooks");
    assert.equal(exhausted.status, 403);
    assert.equal(exhausted.headers.get("x-ratelimit-remaining"), "0");
    gh.setRateLimit(5000);
  });

  test("the OpenAPI check catches a response that drifts from GitHub's schema", () => {
    assert.equal(
      checkResponse("GET", "/repos/{owner}/{repo}/branches", 200, [
        { name: "main", commit: { sha: "x", url: "https://api.github.com/x" }, protected: false },
      ]),
      undefined,
    );
    assert.match(
      checkResponse("GET", "/repos/{owner}/{repo}/branches", 200, [{ name: "main" }]) ?? "",
      /required property 'commit'/,
    );
    assert.match(
      checkResponse("POST", "/repos/{owner}/{repo}/statuses/{sha}", 201, { state: "done" }) ?? "",
      /must/,
    );
  });
});
