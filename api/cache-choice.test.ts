import { describe, test } from "node:test";
import { type CacheQuery, chooseCache, type SavedCache } from "./cache-choice.ts";

const saved = (branch: string, key: string, created: number): SavedCache => ({
  branch,
  key,
  created,
  size: 1,
});

const caches = [
  saved("main", "npm-aaa", 10),
  saved("main", "npm-bbb", 30),
  saved("main", "npm-ccc", 20),
  saved("feature", "npm-ddd", 5),
  saved("feature", "pip-eee", 50),
  saved("other", "npm-fff", 99),
];

describe("chooseCache: exact key, then the newest of a prefix, branch by branch", () => {
  const table: Array<[string, CacheQuery, [string, string, boolean] | undefined]> = [
    [
      "the exact key on the build's branch",
      { key: "npm-ddd", prefixes: ["npm-"], branches: ["feature", "main"] },
      ["feature", "npm-ddd", true],
    ],
    [
      "a changed lock file: the newest npm- cache of the build's own branch",
      { key: "npm-zzz", prefixes: ["npm-"], branches: ["feature", "main"] },
      ["feature", "npm-ddd", false],
    ],
    [
      "nothing on the branch: the exact key on the default branch",
      { key: "npm-aaa", prefixes: ["npm-"], branches: ["fresh", "main"] },
      ["main", "npm-aaa", true],
    ],
    [
      "nothing on the branch: the newest of the prefix on the default branch",
      { key: "npm-zzz", prefixes: ["npm-"], branches: ["fresh", "main"] },
      ["main", "npm-bbb", false],
    ],
    [
      "a stale cache of the own branch beats an exact one of the default branch",
      { key: "npm-aaa", prefixes: ["npm-"], branches: ["feature", "main"] },
      ["feature", "npm-ddd", false],
    ],
    [
      "prefixes in order",
      { key: "x", prefixes: ["pip-", "npm-"], branches: ["feature"] },
      ["feature", "pip-eee", false],
    ],
    ["no prefix: exact only", { key: "npm-zzz", prefixes: [], branches: ["feature", "main"] }, undefined],
    [
      "other branches are never looked at",
      { key: "npm-zzz", prefixes: ["npm-"], branches: ["fresh"] },
      undefined,
    ],
    ["a miss", { key: "go-1", prefixes: ["go-"], branches: ["main", "feature"] }, undefined],
  ];
  for (const [name, query, expected] of table) {
    test(name, (t) => {
      const choice = chooseCache(caches, query);
      t.assert.deepEqual(choice && [choice.cache.branch, choice.cache.key, choice.exact], expected);
    });
  }
  test("saved in the same second: the greater key", (t) => {
    const same = [saved("main", "npm-1", 7), saved("main", "npm-2", 7)];
    t.assert.equal(
      chooseCache(same, { key: "npm-3", prefixes: ["npm-"], branches: ["main"] })?.cache.key,
      "npm-2",
    );
  });
});
