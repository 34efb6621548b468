import { describe, test } from "node:test";
import type { Build } from "../../api/build.ts";
import type { InformerEventType } from "../../lib/runtime/informer.ts";
import { sampleBuild } from "../../test/fixtures/build.ts";
import { buildEventKeys } from "./controller.ts";

const on = (name: string, branch: string | undefined, status?: Build["status"]) =>
  sampleBuild({
    name,
    status,
    spec: {
      revision: branch
        ? { sha: "a".repeat(40), ref: `refs/heads/${branch}`, branch }
        : { sha: "a".repeat(40), ref: `refs/tags/${name}`, tag: name },
    },
  });
const running = { phase: "Running", podName: "x-pod" } as const;
const siblings = [on("main-running", "main", running), on("main-queued", "main"), on("dev-queued", "dev")];

const rows: Array<[string, InformerEventType, Build, Build | undefined, string[]]> = [
  [
    "a new build wakes the other builds of its branch",
    "add",
    on("new", "main"),
    undefined,
    ["new", "main-running", "main-queued"],
  ],
  ["a new tag build wakes nobody else", "add", on("v1", undefined), undefined, ["v1"]],
  ["a status write wakes only the build", "update", on("b", "main", running), on("b", "main"), ["b"]],
  [
    "finishing frees a slot: the queued builds are looked at",
    "update",
    on("b", "main", { phase: "Succeeded" }),
    on("b", "main", running),
    ["b", "main-queued", "dev-queued"],
  ],
  [
    "an update of a finished build frees nothing",
    "update",
    on("b", "main", { phase: "Failed" }),
    on("b", "main", { phase: "Failed" }),
    ["b"],
  ],
  [
    "a deleted build frees its slot",
    "delete",
    on("b", "main", running),
    undefined,
    ["b", "main-queued", "dev-queued"],
  ],
  ["a resync wakes only the build", "resync", on("b", "main", running), undefined, ["b"]],
];

describe("buildEventKeys", () => {
  for (const [name, type, build, old, expected] of rows) {
    test(name, (t) => {
      const keys = buildEventKeys(build, old, type, (b) => siblings.filter((s) => s !== b));
      t.assert.deepEqual(
        keys.map((k) => k.name),
        expected,
      );
    });
  }
});
