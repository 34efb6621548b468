import { describe, test } from "node:test";
import type { Build } from "../../api/build.ts";
import { sampleBuild } from "../../test/fixtures/build.ts";
import { byArrival, pushOrder } from "./push-order.ts";

const sha = (c: string) => c.repeat(40);
const SECOND = "2026-01-01T00:00:00Z";

/** A push build: its sha, the sha it moved from, when it arrived (ms into SECOND), when it was created. */
function push(name: string, options: { sha: string; before?: string; ms?: number; created?: string }): Build {
  return sampleBuild({
    name,
    created: options.created ?? SECOND,
    spec: {
      revision: {
        sha: options.sha,
        ref: "refs/heads/main",
        branch: "main",
        ...(options.before && { before: options.before }),
      },
      trigger: {
        event: "push",
        ...(options.ms !== undefined && {
          receivedAt: new Date(Date.parse(SECOND) + options.ms).toISOString(),
        }),
      },
    },
  });
}

const rows: Array<{ name: string; builds: Build[]; oldestFirst: string[] }> = [
  {
    name: "two pushes in the same second, linked: the chain decides, not the names",
    builds: [push("z-first", { sha: sha("1") }), push("a-second", { sha: sha("2"), before: sha("1") })],
    oldestFirst: ["z-first", "a-second"],
  },
  {
    name: "the same, arriving in the other order (a late delivery): still the chain",
    builds: [
      push("z-first", { sha: sha("1"), ms: 900 }),
      push("a-second", { sha: sha("2"), before: sha("1"), ms: 100 }),
    ],
    oldestFirst: ["z-first", "a-second"],
  },
  {
    name: "a chain of three, listed backwards, names against it",
    builds: [
      push("a", { sha: sha("3"), before: sha("2") }),
      push("b", { sha: sha("2"), before: sha("1") }),
      push("c", { sha: sha("1"), before: sha("0") }),
    ],
    oldestFirst: ["c", "b", "a"],
  },
  {
    name: "unlinked pushes in the same second (force pushes): by arrival",
    builds: [push("a", { sha: sha("2"), ms: 700 }), push("b", { sha: sha("1"), ms: 200 })],
    oldestFirst: ["b", "a"],
  },
  {
    name: "no arrival recorded: by creation time, then name",
    builds: [
      push("b", { sha: sha("1") }),
      push("c", { sha: sha("2"), created: "2025-12-31T23:59:59Z" }),
      push("a", { sha: sha("3") }),
    ],
    oldestFirst: ["c", "a", "b"],
  },
  {
    name: "arriving in the same millisecond: by creation time, then name",
    builds: [
      push("b", { sha: sha("1"), ms: 5, created: "2026-01-01T00:00:02Z" }),
      push("a", { sha: sha("2"), ms: 5, created: "2026-01-01T00:00:01Z" }),
      push("c", { sha: sha("3"), ms: 5, created: "2026-01-01T00:00:01Z" }),
    ],
    oldestFirst: ["a", "c", "b"],
  },
  {
    name: "a build whose before is its own sha waits for nobody",
    builds: [
      push("self", { sha: sha("1"), before: sha("1"), ms: 100 }),
      push("next", { sha: sha("2"), ms: 200 }),
    ],
    oldestFirst: ["self", "next"],
  },
  {
    name: "a rebuild of the newest sha goes after the chain's older links",
    builds: [
      push("head-again", { sha: sha("2"), ms: 300 }),
      push("head", { sha: sha("2"), before: sha("1"), ms: 200 }),
      push("older", { sha: sha("1"), ms: 100 }),
    ],
    oldestFirst: ["older", "head", "head-again"],
  },
  {
    name: "a force push back to an older sha makes a cycle: broken by arrival, every build placed once",
    builds: [
      push("p1", { sha: sha("2"), before: sha("1"), ms: 100 }),
      push("p2", { sha: sha("1"), before: sha("2"), ms: 200 }),
      push("p3", { sha: sha("3"), before: sha("1"), ms: 300 }),
    ],
    oldestFirst: ["p1", "p2", "p3"],
  },
];

describe("pushOrder", () => {
  for (const row of rows) {
    test(row.name, (t) => {
      t.assert.deepEqual(
        pushOrder(row.builds).map((b) => b.metadata.name),
        row.oldestFirst,
      );
      // The same answer from any listing order: every replica agrees.
      t.assert.deepEqual(
        pushOrder([...row.builds].reverse()).map((b) => b.metadata.name),
        row.oldestFirst,
      );
    });
  }

  test("byArrival is a total order: antisymmetric, and 0 only for the same name", (t) => {
    const builds = rows.flatMap((r) => r.builds);
    for (const a of builds)
      for (const b of builds) {
        const ab = Math.sign(byArrival(a, b));
        t.assert.equal(ab, -Math.sign(byArrival(b, a)));
        if (ab === 0) t.assert.equal(a.metadata.name, b.metadata.name);
      }
  });
});
