import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  archiveName,
  cacheBranches,
  cacheFileProblem,
  cacheKeyProblem,
  cacheMounts,
  cachePathProblem,
  cachePathsProblem,
  fullCacheKey,
  localCacheDir,
  resolveCachePath,
} from "./cache.ts";

describe("cache paths", () => {
  test("where the build container sees them, and whether inside the workspace", () => {
    const rows: [string, ReturnType<typeof resolveCachePath>][] = [
      ["node_modules", { path: "/workspace/node_modules", workspace: "node_modules" }],
      ["./node_modules/", { path: "/workspace/node_modules", workspace: "node_modules" }],
      ["/workspace/a//b", { path: "/workspace/a/b", workspace: "a/b" }],
      ["/workspace", { path: "/workspace", workspace: "" }],
      ["/workspaces/x", { path: "/workspaces/x" }],
      ["/root/.npm/", { path: "/root/.npm" }],
    ];
    for (const [written, expected] of rows) assert.deepEqual(resolveCachePath(written), expected, written);
  });

  test("what a cache path cannot be", () => {
    const rows: [string, string | undefined][] = [
      ["node_modules", undefined],
      ["/root/.npm", undefined],
      ["/usr/local/share/.cache", undefined],
      ["/workspace/.venv", undefined],
      ["/workspaces/x", undefined],
      ["..", "a path cannot go up with .."],
      ["a/../../etc", "a path cannot go up with .."],
      [
        "~/.npm",
        "~ is not expanded: write the absolute path (the build container's home is its image's, often /root)",
      ],
      ["dist/*.js", "globs are not supported: name a directory or a file"],
      ["a\nb", "a path cannot hold control characters"],
      [".", "the workspace itself cannot be cached: name what to keep in it, such as node_modules"],
      ["/workspace/", "the workspace itself cannot be cached: name what to keep in it, such as node_modules"],
      [".git/lfs", "the checkout's .git cannot be cached"],
      ["/", "/ is a directory of the image's system: cache something inside it, such as /root/.npm"],
      ["/root", "/root is a directory of the image's system: cache something inside it, such as /root/.npm"],
      ["/kiln", "/kiln cannot hold a cache path"],
      ["/kiln-cache/x", "/kiln-cache cannot hold a cache path"],
      ["/proc/self", "/proc cannot hold a cache path"],
      ["/var/run/secrets/x", "/var/run cannot hold a cache path"],
      ["/dev/shm", "/dev cannot hold a cache path"],
    ];
    for (const [written, expected] of rows) assert.equal(cachePathProblem(written), expected, written);
  });

  test("paths together: not twice, not one inside another", () => {
    assert.equal(cachePathsProblem(["a", "b", "/root/.npm"]), undefined);
    assert.equal(cachePathsProblem(["ab", "a"]), undefined, "a prefix of the name is not inside");
    assert.deepEqual(cachePathsProblem(["a", "/workspace/a/"]), {
      index: 1,
      message: "/workspace/a/ is the same path as paths[0]",
    });
    assert.deepEqual(cachePathsProblem(["/root/.npm/x", "b", "/root/.npm"]), {
      index: 2,
      message: "/root/.npm and paths[0] (/root/.npm/x) overlap: list one of them",
    });
  });

  test("files hashed into the key are in the workspace; keys are plain", () => {
    assert.equal(cacheFileProblem("package-lock.json"), undefined);
    assert.equal(cacheFileProblem("/workspace/sub/go.sum"), undefined);
    assert.equal(
      cacheFileProblem("/etc/os-release"),
      "a file hashed into the key must be in the workspace (write it relative to it)",
    );
    assert.equal(cacheFileProblem("."), "name a file in the workspace, such as package-lock.json");
    assert.equal(cacheFileProblem("../x"), "a path cannot go up with ..");
    assert.equal(cacheKeyProblem("npm-v2_x.y"), undefined);
    for (const bad of ["", "a/b", "a b", "x".repeat(101), "ä"]) assert.ok(cacheKeyProblem(bad), bad);
    assert.equal(fullCacheKey("npm", "ab12"), "npm-ab12");
  });

  test("mounts, archive names and local places agree on every path", () => {
    const written = ["node_modules", "/root/.npm", "/usr/local/share/.cache"];
    assert.deepEqual(cacheMounts(written), [
      { mountPath: "/root/.npm", subPath: "root/.npm" },
      { mountPath: "/usr/local/share/.cache", subPath: "usr/local/share/.cache" },
    ]);
    const dirs = { workspace: "/tmp/ws", outside: "/kiln-cache" };
    assert.deepEqual(
      written.map(resolveCachePath).map((p) => [archiveName(p), localCacheDir(p, dirs)]),
      [
        ["workspace/node_modules", "/tmp/ws/node_modules"],
        ["root/.npm", "/kiln-cache/root/.npm"],
        ["usr/local/share/.cache", "/kiln-cache/usr/local/share/.cache"],
      ],
    );
    // The agent's place of an outside path is the build container's subPath under the agent's mount.
    for (const m of cacheMounts(written))
      assert.equal(localCacheDir(resolveCachePath(m.mountPath), dirs), `/kiln-cache/${m.subPath}`);
  });

  test("branches to look on: the build's, then the default, once", () => {
    assert.deepEqual(cacheBranches("feature/x", "main"), ["feature/x", "main"]);
    assert.deepEqual(cacheBranches("main", "main"), ["main"]);
    assert.deepEqual(cacheBranches(undefined, "main"), ["main"], "a tag build reads the default branch's");
  });
});
