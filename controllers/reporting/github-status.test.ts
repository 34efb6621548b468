import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { silentLogger } from "../../lib/log.ts";
import { FakeGitHub } from "../../stand-ins/github/index.ts";
import { makeBuild } from "../../test/fixtures/reporting.ts";
import { createGitHubStatuses } from "./github-status.ts";
import { statusDescription } from "./owed.ts";

let github: FakeGitHub | undefined;
afterEach(async () => {
  github?.assertNoDrift();
  await github?.stop();
});

const POSTS = ["POST", "/repos/{owner}/{repo}/statuses/{sha}"] as const;

async function setup(now?: () => Date) {
  github = await FakeGitHub.start(now ? { now } : {});
  github.addToken("ghp_status", { login: "kiln-bot" });
  const sha = github.addRepository("acme", "api").branches.get("main")!;
  return {
    fake: github,
    target: { owner: "acme", repo: "api", sha, baseUrl: github.url, token: "ghp_status" },
  };
}

const failure = { state: "failure", description: "Failed at step test", context: "kiln" } as const;

describe("GitHub commit statuses", () => {
  test("posts with context, description and target URL; shows() tells whether the newest one is ours", async () => {
    const { fake, target } = await setup();
    const statuses = createGitHubStatuses({ log: silentLogger(), writeSpacingMs: 0 });
    const status = { ...failure, targetURL: "https://kiln.example/builds/default/b1" };
    assert.equal(await statuses.shows(target, status), false);
    await statuses.post(target, status);
    assert.equal(await statuses.shows(target, status), true);
    await statuses.post(target, { ...status, state: "success", description: "Passed" });
    assert.equal(await statuses.shows(target, status), false, "only the newest status of the context counts");
    assert.deepEqual(
      fake.statuses("acme", "api", target.sha).map((s) => [s.state, s.context, s.target_url]),
      [
        ["failure", "kiln", "https://kiln.example/builds/default/b1"],
        ["success", "kiln", "https://kiln.example/builds/default/b1"],
      ],
    );
  });

  test("the primary rate limit is waited out until its reset, then the status is posted", async () => {
    // The fake's clock runs an hour behind, so its rate-limit window resets a second from now.
    const { fake, target } = await setup(() => new Date(Date.now() - 3_600_000 + 1000));
    fake.setRateLimit(10, 10);
    const statuses = createGitHubStatuses({ log: silentLogger(), writeSpacingMs: 0 });
    const posting = statuses.post(target, failure);
    const deadline = Date.now() + 5000;
    while (!fake.requests.some((r) => r.status === 403) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    fake.setRateLimit(5000); // the window reset
    await posting;
    assert.deepEqual(
      fake.requestsTo(...POSTS).map((r) => r.status),
      [403, 201],
    );
  });

  test("a secondary rate limit (Retry-After) is waited out", async () => {
    const { fake, target } = await setup();
    fake.failNext({ method: "POST", path: "/statuses/", status: 403, retryAfter: 1 });
    const statuses = createGitHubStatuses({
      log: silentLogger(),
      writeSpacingMs: 0,
      retryAfterBaseValue: 50,
    });
    await statuses.post(target, failure);
    assert.deepEqual(
      fake.requestsTo(...POSTS).map((r) => r.status),
      [403, 201],
    );
  });

  test("5xx is retried; a bad token is not", async () => {
    const { fake, target } = await setup();
    fake.failNext({ method: "POST", path: "/statuses/", status: 502 });
    const statuses = createGitHubStatuses({ log: silentLogger(), writeSpacingMs: 0 });
    await statuses.post(target, failure);
    assert.deepEqual(
      fake.requestsTo(...POSTS).map((r) => r.status),
      [502, 201],
    );
    await assert.rejects(statuses.post({ ...target, token: "ghp_wrong" }, failure), { status: 401 });
    assert.equal(fake.requestsTo(...POSTS).length, 3);
  });

  test("a description is never longer than GitHub takes: the longest Kiln makes is accepted, one more is refused", async () => {
    const { fake, target } = await setup();
    const statuses = createGitHubStatuses({ log: silentLogger(), writeSpacingMs: 0 });
    // An Errored build's message is free text (a Pod's, a manifest error), as long and as wide as it likes.
    for (const message of ["x".repeat(500), "🚀".repeat(500), `${"é".repeat(130)} ${"界".repeat(100)}`]) {
      const description = statusDescription(makeBuild("b", { phase: "Errored", message }));
      await statuses.post(target, { state: "error", description, context: "kiln" });
      assert.equal(fake.statuses("acme", "api", target.sha).at(-1)?.description, description);
    }
    assert.deepEqual(
      fake.requestsTo(...POSTS).map((r) => r.status),
      [201, 201, 201],
    );
    // The fake does refuse more, as GitHub does, so the posts above were checked.
    await assert.rejects(
      statuses.post(target, { state: "error", description: "x".repeat(141), context: "kiln" }),
      { status: 422 },
    );
  });
});
