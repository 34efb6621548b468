import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { sampleBuild, sampleRepository } from "../../test/fixtures/build.ts";
import {
  buildMatches,
  buildView,
  elapsed,
  listHref,
  listView,
  PAGE_SIZE,
  pageOf,
  parseListQuery,
  triggerText,
} from "./views.ts";

const q = (text: string) => parseListQuery(new URLSearchParams(text));
const numbers = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("the list's query", () => {
  test("defaults to page 1 without filters; empty parameters are no filter", () => {
    assert.deepEqual(q(""), { page: 1 });
    assert.deepEqual(q("branch=&phase=&page="), { page: 1 });
    assert.deepEqual(q("branch=main&phase=Failed&page=3"), { branch: "main", phase: "Failed", page: 3 });
  });
  test("a phase that is not one, or a page that is not a whole number from 1, is a 400 saying what is allowed", () => {
    for (const bad of [
      "phase=failed",
      "phase=Broken",
      "page=0",
      "page=-1",
      "page=2.5",
      "page=x",
      "page=9999999",
    ]) {
      assert.throws(
        () => q(bad),
        (err: { status?: number; message: string }) => err.status === 400 && /must be/.test(err.message),
        bad,
      );
    }
  });
});

describe("pagination", () => {
  test("without a filter, a page is a slice; next and previous exist exactly when there is more", () => {
    const all = numbers(120);
    const first = pageOf(all, 1);
    assert.deepEqual(first.items, numbers(50));
    assert.deepEqual([first.hasPrevious, first.hasNext, first.total], [false, true, 120]);
    const third = pageOf(all, 3);
    assert.deepEqual(
      third.items,
      numbers(20).map((i) => i + 100),
    );
    assert.deepEqual([third.hasPrevious, third.hasNext], [true, false]);
    assert.deepEqual(pageOf(all, 4).items, []);
    // Exactly full pages: no empty next page.
    assert.equal(pageOf(numbers(100), 2).hasNext, false);
    assert.equal(pageOf(numbers(101), 2).hasNext, true);
  });
  test("with a filter, the page holds the matches in order and knows whether more match", () => {
    const even = (n: number) => n % 2 === 0;
    const page = pageOf(numbers(250), 2, even);
    assert.deepEqual(
      page.items,
      numbers(50).map((i) => 100 + 2 * i),
    );
    assert.equal(page.hasNext, true);
    assert.equal(page.total, undefined);
    const last = pageOf(numbers(250), 3, even);
    assert.equal(last.items.length, 25);
    assert.equal(last.hasNext, false);
    assert.equal(pageOf(numbers(200), 2, even).hasNext, false, "100 matches fill two pages exactly");
  });
  test("a filter stops reading at the first match past its page", () => {
    let read = 0;
    pageOf(numbers(10_000), 1, () => {
      read++;
      return true;
    });
    assert.equal(read, PAGE_SIZE + 1);
  });
});

describe("filters", () => {
  const main = sampleBuild({ name: "a", status: { phase: "Failed" } });
  const dev = sampleBuild({ name: "b", spec: { revision: { sha: "a".repeat(40), branch: "dev" } } });
  test("by branch, by phase (no phase yet is Queued), or both", () => {
    assert.equal(buildMatches({ page: 1 }), undefined);
    const byBranch = buildMatches({ page: 1, branch: "dev" })!;
    assert.deepEqual([byBranch(main), byBranch(dev)], [false, true]);
    const byPhase = buildMatches({ page: 1, phase: "Queued" })!;
    assert.deepEqual([byPhase(main), byPhase(dev)], [false, true]);
    const both = buildMatches({ page: 1, branch: "main", phase: "Failed" })!;
    assert.deepEqual([both(main), both(dev)], [true, false]);
  });
  test("links keep the filters and leave page 1 and empty values out", () => {
    assert.equal(listHref("ci", "api", { page: 1 }), "/repositories/ci/api");
    assert.equal(
      listHref("ci", "api", { page: 2, branch: "feature/x y", phase: "Failed" }),
      "/repositories/ci/api?branch=feature%2Fx+y&phase=Failed&page=2",
    );
  });
});

describe("durations", () => {
  const now = Date.parse("2026-01-01T00:10:00Z");
  test("from start to end, or to now while running; none before the start or when a time does not parse", () => {
    assert.equal(elapsed("2026-01-01T00:00:00Z", "2026-01-01T00:01:30Z", now), 90_000);
    assert.equal(elapsed("2026-01-01T00:00:00Z", undefined, now), 600_000);
    assert.equal(elapsed(undefined, undefined, now), undefined);
    assert.equal(elapsed("yesterday", undefined, now), undefined);
    assert.equal(elapsed("2026-01-01T00:11:00Z", undefined, now), 0, "a clock skew is no negative duration");
  });
  test("a finished build shows its recorded duration; a running one how long so far; each step its own", () => {
    const finished = sampleBuild({
      status: {
        phase: "Failed",
        startTime: "2026-01-01T00:00:00Z",
        completionTime: "2026-01-01T00:02:00Z",
        duration: "2m5s",
        steps: [
          {
            name: "test",
            phase: "Failed",
            exitCode: 3,
            startTime: "2026-01-01T00:00:05Z",
            completionTime: "2026-01-01T00:00:47Z",
            message: "boom",
          },
        ],
      },
    });
    const view = buildView(finished, undefined, { available: true }, now);
    assert.equal(view.build.duration, "2m05s");
    assert.deepEqual(
      view.steps.map((s) => [s.name, s.duration, s.exitCode, s.failed]),
      [["test", "42s", 3, true]],
    );
    assert.equal(view.failedStep, "test");
    const running = sampleBuild({ status: { phase: "Running", startTime: "2026-01-01T00:09:00Z" } });
    assert.equal(buildView(running, undefined, { available: true }, now).build.duration, "1m00s");
  });
});

describe("views", () => {
  test("what started a build", () => {
    assert.equal(triggerText(sampleBuild()), "push");
    assert.equal(
      triggerText(
        sampleBuild({ spec: { trigger: { event: "pull_request", pullRequest: { number: 7, fork: true } } } }),
      ),
      "pull request #7 (fork)",
    );
    assert.equal(triggerText(sampleBuild({ spec: { trigger: { event: "catch-up" } } })), "catch-up");
  });
  test("the list links the previous and next pages with the same filters", () => {
    const builds = numbers(120).map((i) => sampleBuild({ name: `b-${i}` }));
    const view = listView("ci", "api", sampleRepository(), builds, { page: 2, branch: "main" }, 0);
    assert.equal(view.builds.length, 50);
    assert.equal(view.previous, "/repositories/ci/api?branch=main");
    assert.equal(view.next, "/repositories/ci/api?branch=main&page=3");
    assert.deepEqual(view.github, { owner: "acme", name: "api" });
  });
  test("a build without a store has no events link, and says why", () => {
    const view = buildView(sampleBuild(), undefined, { available: false, why: "no store" }, 0);
    assert.equal(view.eventsHref, undefined);
    assert.equal(
      buildView(sampleBuild(), undefined, { available: true }, 0).eventsHref,
      "/builds/ci/api-main-4f2c1a9/events",
    );
  });
});
