import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { makeRepository } from "../../test/fixtures/webhook.ts";
import { catchUp } from "./catch-up.ts";
import { setCondition } from "./conditions.ts";
import {
  type DesiredHook,
  desiredHook,
  type ExistingHook,
  planHook,
  secretFingerprint,
} from "./desired-hook.ts";
import { alreadyBuilt, type DeliveryItem, deliveriesToRedeliver } from "./redeliver.ts";

const URL_ = "https://kiln.example/hooks/github";
const HOOK = `${URL_}?repository=default%2Fapi`;
const repo = makeRepository("api", "acme", "api", {
  webhook: { url: URL_, secretRef: { name: "s", key: "k" } },
});

describe("desiredHook", () => {
  test("from the spec: sorted unique events, json, TLS verified, active", () => {
    assert.deepEqual(desiredHook(repo, undefined, "sec"), {
      url: HOOK,
      events: ["pull_request", "push"],
      secret: "sec",
      content_type: "json",
      insecure_ssl: "0",
      active: true,
    });
  });
  test("the controller's URL when the spec has none; an error when neither", () => {
    const noURL = makeRepository("api", "acme", "api");
    assert.equal(
      (desiredHook(noURL, "https://k/hooks/github", "s") as DesiredHook).url,
      "https://k/hooks/github?repository=default%2Fapi",
    );
    assert.match(desiredHook(noURL, undefined, "s") as string, /no --webhook-url/);
    const noHook = makeRepository("api", "acme", "api", { webhook: undefined });
    assert.match(desiredHook(noHook, "https://k", "s") as string, /spec.webhook is not set/);
  });
});

describe("planHook", () => {
  const desired = desiredHook(repo, undefined, "sec") as DesiredHook;
  const hook = (id: number, url = HOOK, extra: Partial<ExistingHook> = {}): ExistingHook => ({
    id,
    active: true,
    events: ["push", "pull_request"],
    config: { url, content_type: "json", insecure_ssl: "0", secret: "********" },
    ...extra,
  });
  const cases: Array<[string, ExistingHook[], number | undefined, string | undefined, unknown]> = [
    ["no hook → create", [], undefined, undefined, { action: "create", hook: desired, remove: [] }],
    [
      "someone else's hook only → create",
      [hook(1, "https://other")],
      undefined,
      undefined,
      { action: "create", hook: desired, remove: [] },
    ],
    [
      "ours, current, same secret → keep",
      [hook(5)],
      5,
      secretFingerprint(5, "sec"),
      { action: "keep", id: 5, remove: [] },
    ],
    [
      "found by URL without a recorded id → keep",
      [hook(5)],
      undefined,
      secretFingerprint(5, "sec"),
      { action: "keep", id: 5, remove: [] },
    ],
    [
      "secret changed → update",
      [hook(5)],
      5,
      secretFingerprint(5, "old"),
      { action: "update", id: 5, hook: desired, remove: [] },
    ],
    [
      "events changed → update",
      [hook(5, HOOK, { events: ["push"] })],
      5,
      secretFingerprint(5, "sec"),
      { action: "update", id: 5, hook: desired, remove: [] },
    ],
    [
      "deactivated → update",
      [hook(5, HOOK, { active: false })],
      5,
      secretFingerprint(5, "sec"),
      { action: "update", id: 5, hook: desired, remove: [] },
    ],
    [
      "no secret on GitHub → update",
      [hook(5, HOOK, { config: { url: HOOK, content_type: "json", insecure_ssl: "0" } })],
      5,
      secretFingerprint(5, "sec"),
      { action: "update", id: 5, hook: desired, remove: [] },
    ],
    [
      "URL changed in the spec: the recorded hook is updated",
      [hook(5, "https://old/hooks/github")],
      5,
      secretFingerprint(5, "sec"),
      { action: "update", id: 5, hook: desired, remove: [] },
    ],
    [
      "duplicates by URL: keep the oldest, remove the rest",
      [hook(9), hook(4), hook(7)],
      undefined,
      secretFingerprint(4, "sec"),
      { action: "keep", id: 4, remove: [7, 9] },
    ],
    [
      "duplicates: the recorded one wins",
      [hook(9), hook(4)],
      9,
      secretFingerprint(9, "sec"),
      { action: "keep", id: 9, remove: [4] },
    ],
  ];
  for (const [name, existing, known, fingerprint, expected] of cases) {
    test(name, () => assert.deepEqual(planHook(desired, existing, known, fingerprint), expected));
  }
});

describe("setCondition", () => {
  const t1 = new Date("2026-01-01T00:00:00Z");
  const t2 = new Date("2026-01-01T01:00:00Z");
  test("adds, keeps the transition time while the status holds, moves it on a flip", () => {
    const a = setCondition(
      undefined,
      { type: "WebhookReady", status: "False", reason: "Unauthorized" },
      t1,
      1,
    );
    const b = setCondition(
      a,
      { type: "WebhookReady", status: "False", reason: "Forbidden", message: "m" },
      t2,
      2,
    );
    const c = setCondition(b, { type: "WebhookReady", status: "True", reason: "Registered" }, t2, 2);
    assert.equal(b[0]!.lastTransitionTime, t1.toISOString());
    assert.equal(b[0]!.reason, "Forbidden");
    assert.equal(c[0]!.lastTransitionTime, t2.toISOString());
    assert.equal(c.length, 1);
  });
  test("leaves other conditions alone", () => {
    const other = {
      type: "TelegramReady",
      status: "True" as const,
      reason: "Ok",
      lastTransitionTime: t1.toISOString(),
    };
    const out = setCondition([other], { type: "WebhookReady", status: "True", reason: "Registered" }, t2, 3);
    assert.deepEqual(out[0], other);
    assert.equal(out[1]!.observedGeneration, 3);
  });
});

describe("deliveriesToRedeliver", () => {
  const now = Date.parse("2026-01-02T00:00:00Z");
  const d = (
    id: number,
    guid: string,
    status_code: number,
    redelivery = false,
    at = "2026-01-01T23:00:00Z",
  ): DeliveryItem => ({
    id,
    guid,
    status_code,
    redelivery,
    delivered_at: at,
  });
  const cases: Array<[string, DeliveryItem[], Set<string>, number[]]> = [
    ["a 503 is redelivered", [d(1, "a", 503)], new Set(), [1]],
    ["a connection failure (0) is redelivered", [d(1, "a", 0)], new Set(), [1]],
    ["a 429 is redelivered", [d(1, "a", 429)], new Set(), [1]],
    ["a success is not", [d(1, "a", 201)], new Set(), []],
    ["a 401 (bad signature) is not: it would fail again", [d(1, "a", 401)], new Set(), []],
    ["a 404 (unknown repository) is not", [d(1, "a", 404)], new Set(), []],
    [
      "once each: a GUID with a redelivery attempt is left alone",
      [d(1, "a", 503), d(2, "a", 503, true)],
      new Set(),
      [],
    ],
    ["a GUID that later succeeded is left alone", [d(1, "a", 503), d(2, "a", 200, true)], new Set(), []],
    ["a GUID already asked for in this process is left alone", [d(1, "a", 503)], new Set(["a"]), []],
    [
      "older than GitHub's 3-day window is left alone",
      [d(1, "a", 503, false, "2025-12-28T00:00:00Z")],
      new Set(),
      [],
    ],
    ["several, oldest first", [d(3, "c", 500), d(1, "a", 503), d(2, "b", 200)], new Set(), [1, 3]],
  ];
  for (const [name, deliveries, asked, expected] of cases) {
    test(name, () =>
      assert.deepEqual(
        deliveriesToRedeliver(deliveries, asked, now).map((x) => x.id),
        expected,
      ),
    );
  }
});

describe("catchUp", () => {
  const created = "2026-01-01T00:00:00Z";
  const repository = makeRepository("api", "acme", "api", { branches: ["main", "release/*"] });
  repository.metadata.creationTimestamp = created;
  const A = "a".repeat(40);
  const B = "b".repeat(40);
  const now = Date.parse("2026-01-01T12:00:00Z");
  const fresh = { committedAt: Date.parse("2026-01-01T11:00:00Z"), message: "m", author: "Ada" };
  const base = {
    repository,
    heads: [
      { name: "main", sha: A },
      { name: "feature", sha: B },
    ],
    builds: [],
    firstSeen: new Map<string, number>(),
    info: new Map([[A, fresh]]),
    now,
    graceMs: 60_000,
  };
  test("a head first seen uncovered waits out the grace period", () => {
    const plan = catchUp(base);
    assert.deepEqual(plan.create, []);
    assert.deepEqual([...plan.seen], [[`main@${A}`, now]]);
  });
  test("after the grace period it is built, with trigger catch-up; unwatched branches never", () => {
    const plan = catchUp({ ...base, firstSeen: new Map([[`main@${A}`, now - 60_000]]) });
    assert.equal(plan.create.length, 1);
    assert.equal(plan.create[0]!.spec.trigger?.event, "catch-up");
    assert.equal(plan.create[0]!.spec.revision.sha, A);
    assert.equal(plan.create[0]!.spec.revision.message, "m");
  });
  test("a head with a Build (any trigger) is covered", () => {
    const build = {
      spec: {
        repository: "api",
        revision: { sha: A, ref: "refs/heads/main" },
        trigger: { event: "push" as const },
      },
    };
    const plan = catchUp({ ...base, builds: [build as never], firstSeen: new Map([[`main@${A}`, 0]]) });
    assert.deepEqual(plan.create, []);
    assert.equal(plan.seen.size, 0);
  });
  test("commits older than the Repository are not built; unknown dates are asked for", () => {
    const old = catchUp({
      ...base,
      info: new Map([[A, { committedAt: 0 }]]),
      firstSeen: new Map([[`main@${A}`, 0]]),
    });
    assert.deepEqual(old.create, []);
    assert.equal(old.seen.size, 0, "an old head is not waited for");
    assert.equal(old.seen.size, 0, "an old head is not waited for (no short requeues for it)");
    const unknown = catchUp({ ...base, info: new Map(), firstSeen: new Map([[`main@${A}`, 0]]) });
    assert.deepEqual(unknown.needInfo, [{ name: "main", sha: A }]);
  });
});

describe("alreadyBuilt", () => {
  const build = (sha: string, pr?: number) => ({
    spec: { revision: { sha }, trigger: pr ? { pullRequest: { number: pr } } : {} },
  });
  const A = "a".repeat(40);
  const cases: Array<[string, string, unknown, ReturnType<typeof build>[], boolean]> = [
    ["a push whose commit has a Build", "push", { after: A }, [build(A)], true],
    ["a push whose commit has none", "push", { after: A }, [build("b".repeat(40))], false],
    [
      "a PR head built for that PR",
      "pull_request",
      { number: 3, pull_request: { head: { sha: A } } },
      [build(A, 3)],
      true,
    ],
    [
      "a PR head built only as a branch push is not the PR's build",
      "pull_request",
      { number: 3, pull_request: { head: { sha: A } } },
      [build(A)],
      false,
    ],
    ["other events never", "ping", { after: A }, [build(A)], false],
    ["a payload without the fields", "push", null, [build(A)], false],
  ];
  for (const [name, event, payload, builds, expected] of cases) {
    test(name, () => assert.equal(alreadyBuilt(event, payload, builds), expected));
  }
});
