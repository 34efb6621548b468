// The build pages' routes through the webhook's koa app, with Builds in memory and no store: answers,
// headers, the JSON twins, 404s, bad input, and --page-auth's token handling (with a stand-in check; the
// real TokenReview and SubjectAccessReview: test/integration/build-page.test.ts).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { HttpError } from "../../lib/http-error.ts";
import { StoreError } from "../../lib/store-client.ts";
import { sampleBuild, sampleRepository } from "../../test/fixtures/build.ts";
import { memoryRepositories, memorySecrets, serveApp } from "../../test/fixtures/webhook.ts";
import { MemoryBuildIndex } from "./build-index.ts";
import type { PageAuth } from "./page-auth.ts";
import { CONTENT_SECURITY_POLICY } from "./page-routes.ts";

const index = new MemoryBuildIndex();
for (let i = 0; i < 75; i++) {
  index.upsert(
    sampleBuild({
      name: `api-${String(i).padStart(3, "0")}`,
      created: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
      status: { phase: i % 3 === 0 ? "Failed" : "Succeeded" },
      ...(i % 2 === 0 ? { spec: { revision: { sha: "b".repeat(40), branch: "dev" } } } : {}),
    }),
  );
}
let app: Awaited<ReturnType<typeof serveApp>>;
let base: string;

before(async () => {
  app = await serveApp({
    repositories: memoryRepositories([sampleRepository()]),
    secrets: memorySecrets({}),
    page: { builds: index, noStoreReason: "no store in this test" },
  });
  base = new URL(app.url).origin;
});
after(() => app.close());

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { headers, redirect: "manual" });

describe("the pages", () => {
  test("the list: HTML newest first with the page's headers; its JSON twin by ?format=json or Accept", async () => {
    const res = await get("/repositories/ci/api");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(res.headers.get("content-security-policy"), CONTENT_SECURITY_POLICY);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    const page = await res.text();
    assert.ok(page.indexOf("api-074") < page.indexOf("api-073"), "newest first");
    assert.match(page, /page 1 of 2 · 75 builds/);
    for (const ask of [
      get("/repositories/ci/api?format=json&page=2"),
      get("/repositories/ci/api?page=2", { accept: "application/json" }),
    ]) {
      const json = (await (await ask).json()) as {
        builds: { name: string }[];
        previous?: string;
        next?: string;
        total: number;
      };
      assert.equal(json.builds.length, 25);
      assert.equal(json.builds[0]!.name, "api-024");
      assert.equal(json.previous, "/repositories/ci/api");
      assert.equal(json.next, undefined);
      assert.equal(json.total, 75);
    }
  });
  test("filters by branch and phase", async () => {
    const json = (await (await get("/repositories/ci/api?format=json&branch=dev&phase=Failed")).json()) as {
      builds: { name: string; branch: string; phase: string }[];
    };
    // i even and divisible by 3: 0, 6, …, 72
    assert.deepEqual(
      json.builds.map((b) => b.name),
      Array.from({ length: 13 }, (_, k) => `api-${String(72 - 6 * k).padStart(3, "0")}`),
    );
  });
  test("one build, and its JSON twin; without a store it says why there is no log", async () => {
    const page = await (await get("/builds/ci/api-003")).text();
    assert.match(page, /<h1>api-003 <span class="badge phase-failed">Failed<\/span><\/h1>/);
    assert.match(page, /No log here: no store in this test/);
    const json = (await (await get("/builds/ci/api-003", { accept: "application/json" })).json()) as {
      build: { name: string; phase: string };
      logs: { available: boolean; why: string };
    };
    assert.deepEqual([json.build.name, json.build.phase, json.logs.available], ["api-003", "Failed", false]);
    assert.equal((await get("/builds/ci/api-003/events")).status, 404);
  });
  test("the namespace's repositories; the assets with their types", async () => {
    assert.match(await (await get("/builds/ci")).text(), /<a href="\/repositories\/ci\/api">api<\/a>/);
    const css = await get("/assets/page.css");
    assert.equal(css.headers.get("content-type"), "text/css; charset=utf-8");
    assert.match(await css.text(), /\.badge\.phase-failed/);
    const js = await get("/assets/build-page.js");
    assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.match(await js.text(), /new EventSource/);
  });
});

describe("what is not there, and bad input", () => {
  test("an unknown build or repository: a 404 page that says what is missing, as HTML or JSON", async () => {
    const build = await get("/builds/ci/nope");
    assert.equal(build.status, 404);
    const text = await build.text();
    assert.match(text, /<h1>Not found<\/h1>/);
    assert.match(text, /No Build ci\/nope\./);
    const repo = await get("/repositories/ci/nope", { accept: "application/json" });
    assert.equal(repo.status, 404);
    assert.match(((await repo.json()) as { message: string }).message, /No repository ci\/nope/);
    assert.equal((await get("/builds/ci/api-003/nonsense")).status, 404);
    assert.equal((await get("/builds/")).status, 404);
  });
  test("a bad filter is a 400 page; a write is a 405; bad %-encoding a 400", async () => {
    const bad = await get("/repositories/ci/api?phase=Nope");
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /phase must be one of Queued, Pending/);
    const post = await fetch(`${base}/builds/ci/api-003`, { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    assert.equal((await get("/builds/ci/%E0%A4%A")).status, 400);
  });
  test("until the Build cache has synced, the pages answer 503", async () => {
    index.setReady(false);
    try {
      assert.equal((await get("/repositories/ci/api")).status, 503);
    } finally {
      index.setReady(true);
    }
  });
});

describe("--page-auth (the check stood in for)", () => {
  let guarded: Awaited<ReturnType<typeof serveApp>>;
  let origin: string;
  const seen: (string | undefined)[] = [];
  const auth: PageAuth = {
    async check(token, namespace) {
      seen.push(token);
      if (!token) throw new HttpError(401, "a token is needed");
      if (token !== "good" || namespace !== "ci") throw new HttpError(403, "not yours");
    },
  };
  before(async () => {
    guarded = await serveApp({
      repositories: memoryRepositories([sampleRepository()]),
      secrets: memorySecrets({}),
      page: { builds: index, auth },
    });
    origin = new URL(guarded.url).origin;
  });
  after(() => guarded.close());

  test("no token: 401 with a Bearer challenge; the header or the cookie set from ?token= is the token", async () => {
    const none = await fetch(`${origin}/builds/ci/api-003`);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get("www-authenticate"), 'Bearer realm="kiln"');
    assert.equal(
      (await fetch(`${origin}/builds/ci/api-003`, { headers: { authorization: "Bearer good" } })).status,
      200,
    );
    assert.equal(
      (await fetch(`${origin}/builds/ci/api-003`, { headers: { authorization: "Bearer bad" } })).status,
      403,
    );
    const link = await fetch(`${origin}/repositories/ci/api?page=2&token=good`, { redirect: "manual" });
    assert.equal(link.status, 303);
    assert.equal(
      link.headers.get("location"),
      "/repositories/ci/api?page=2",
      "the token is taken out of the address",
    );
    const cookie = link.headers.get("set-cookie")!;
    assert.match(cookie, /^kiln_page_token=good; path=\/; samesite=strict; httponly$/);
    const withCookie = await fetch(`${origin}/repositories/ci/api?page=2`, {
      headers: { cookie: cookie.split(";")[0]! },
    });
    assert.equal(withCookie.status, 200);
    assert.equal(seen.at(-1), "good");
    assert.equal((await fetch(`${origin}/assets/page.css`)).status, 200, "the assets need no token");
  });
});

describe("the store's answers", () => {
  let served: Awaited<ReturnType<typeof serveApp>>;
  let origin: string;
  before(async () => {
    served = await serveApp({
      repositories: memoryRepositories([sampleRepository()]),
      secrets: memorySecrets({}),
      page: {
        builds: index,
        store: {
          steps: async () => [],
          followLog: async function* () {},
          readLog: async (ref) => {
            if (ref.step === "refused") throw new StoreError("cannot read the log: 403 no", 403, false);
            return undefined;
          },
        },
      },
    });
    origin = new URL(served.url).origin;
  });
  after(() => served.close());

  test("a step without a log is a 404; the store refusing the webhook is a 502, not the reader's 403", async () => {
    const none = await fetch(`${origin}/builds/ci/api-003/log?step=test`);
    assert.equal(none.status, 404);
    assert.match(await none.text(), /Step &quot;test&quot; of ci\/api-003 has no log/);
    const refused = await fetch(`${origin}/builds/ci/api-003/log?step=refused`, {
      headers: { accept: "application/json" },
    });
    assert.equal(refused.status, 502);
    assert.match(
      ((await refused.json()) as { message: string }).message,
      /the store could not give the log: cannot read the log: 403/,
    );
    assert.equal((await fetch(`${origin}/builds/ci/api-003/log`)).status, 400, "which step?");
  });
});
