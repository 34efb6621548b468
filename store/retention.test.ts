import { describe, test } from "node:test";
import { cachesToEvict, expiredLogs, type StoredCache } from "./retention.ts";

const HOUR = 3_600_000;

describe("expiredLogs", () => {
  const now = 1000 * HOUR;
  const table: Array<[string, number, boolean]> = [
    ["written just now", now, false],
    ["written within the retention", now - 719 * HOUR, false],
    ["written exactly the retention ago", now - 720 * HOUR, false],
    ["written longer ago", now - 720 * HOUR - 1, true],
    ["written in the future (a clock ahead)", now + HOUR, false],
  ];
  for (const [name, lastWritten, expired] of table) {
    test(name, (t) => {
      t.assert.deepEqual(
        expiredLogs([{ id: "ns/b", lastWritten }], now, 720 * HOUR),
        expired ? ["ns/b"] : [],
      );
    });
  }
});

describe("cachesToEvict", () => {
  const cache = (id: string, size: number, created: number, lastUsed?: number): StoredCache => ({
    id,
    size,
    created,
    ...(lastUsed === undefined ? {} : { lastUsed }),
  });
  const table: Array<[string, StoredCache[], number, string[]]> = [
    ["nothing stored", [], 100, []],
    ["under the limit", [cache("a", 40, 1), cache("b", 60, 2)], 100, []],
    [
      "least recently saved goes first",
      [cache("a", 40, 1), cache("b", 40, 2), cache("c", 40, 3)],
      100,
      ["a"],
    ],
    [
      "a restore makes an old cache recent",
      [cache("a", 40, 1, 10), cache("b", 40, 2), cache("c", 40, 3)],
      100,
      ["b"],
    ],
    [
      "as many as it takes",
      [cache("a", 40, 1), cache("b", 40, 2), cache("c", 40, 3), cache("d", 40, 4)],
      90,
      ["a", "b"],
    ],
    ["one cache larger than the limit goes too", [cache("big", 500, 5)], 100, ["big"]],
    [
      "a large recent cache evicts several small old ones",
      [cache("a", 10, 1), cache("b", 10, 2), cache("big", 95, 3)],
      100,
      ["a", "b"],
    ],
    [
      "ties in last use go to the older save, then by name",
      [cache("y", 40, 2, 9), cache("x", 40, 1, 9), cache("z", 40, 9)],
      100,
      ["x"],
    ],
  ];
  for (const [name, caches, max, evicted] of table) {
    test(name, (t) => t.assert.deepEqual(cachesToEvict(caches, max), evicted));
  }
});
