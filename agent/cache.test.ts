import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { describe, test } from "node:test";
import { createGzip, zstdCompressSync } from "node:zlib";
import { list } from "tar";
import { BuildCache, type CacheSpec, type CacheStore, hashFiles, noSaveReason, readable } from "./cache.ts";
import { localCacheStore } from "./local-cache.ts";

function dirs(t: { after(fn: () => void): void }) {
  const base = mkdtempSync(join(tmpdir(), "kiln-cache-test-"));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const workspace = join(base, "workspace");
  const outside = join(base, "kiln-cache");
  const store = join(base, "store");
  mkdirSync(workspace);
  mkdirSync(outside);
  return { base, workspace, outside, store };
}

/** The hash of `files: [k/lock]` when k/lock is absent. */
const hashOfAbsent = (workspace: string) => hashFiles(join(workspace, "no-such-dir"), ["k/lock"]);

function write(path: string, text: string) {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
}

const NPM: CacheSpec = { key: "npm", paths: ["node_modules", "/root/.npm"], files: ["package-lock.json"] };

async function open(d: ReturnType<typeof dirs>, spec = NPM, branch = "main", store?: CacheStore) {
  const lines: string[] = [];
  const cache = await BuildCache.open({
    spec,
    dirs: { workspace: d.workspace, outside: d.outside },
    store: store ?? localCacheStore(d.store, branch),
    say: (l) => lines.push(l),
  });
  return { cache, lines };
}

describe("hashFiles", () => {
  test("the files in order, their names and bytes; a missing file (or a directory) hashes as absent", async (t) => {
    const d = dirs(t);
    write(join(d.workspace, "a"), "A");
    write(join(d.workspace, "b"), "B");
    write(join(d.workspace, "empty"), "");
    mkdirSync(join(d.workspace, "dir"));
    const h = (files: string[]) => hashFiles(d.workspace, files);
    const ab = await h(["a", "b"]);
    assert.match(ab, /^[0-9a-f]{32}$/);
    assert.equal(await h(["a", "b"]), ab, "deterministic");
    assert.equal(await h(["/workspace/a", "./b"]), ab, "the same files, written otherwise");
    assert.notEqual(await h(["b", "a"]), ab, "order counts");
    assert.notEqual(await h(["missing"]), await h(["empty"]), "absent is not empty");
    assert.equal(await h(["missing"]), await h(["missing"]));
    assert.equal(await h(["dir"]), await h(["dir"]));
    assert.notEqual(await h(["missing"]), await h(["other-missing"]), "the name counts");
    write(join(d.workspace, "a"), "A2");
    assert.notEqual(await h(["a", "b"]), ab, "a changed file changes it");
  });
});

describe("BuildCache", () => {
  test("saves workspace and outside paths, restores them into a fresh workspace; entries named as the build container sees them", async (t) => {
    const d = dirs(t);
    write(join(d.workspace, "package-lock.json"), "{}");
    write(join(d.workspace, "node_modules/x/index.js"), "x");
    symlinkSync("x/index.js", join(d.workspace, "node_modules/link"));
    write(join(d.outside, "root/.npm/_cacache/y"), "y");
    const first = await open(d);
    await first.cache.restore("main", "main");
    assert.deepEqual(first.lines.slice(0, 2), [
      "cache: /workspace/node_modules is already there and not restored over",
      "cache: /root/.npm is already there and not restored over",
    ]);
    await first.cache.save({ fork: false, branch: "main" });
    assert.match(first.lines[2]!, /^cache: saved npm-[0-9a-f]{32} \([\d.]+ k?B, [\d.]+ s\)$/);

    const archive = join(d.store, "main", `${first.cache.key}.tar.zst`);
    const names: string[] = [];
    await list({ file: archive, onReadEntry: (e) => names.push(e.path) });
    assert.deepEqual(names.sort(), [
      "root/.npm/",
      "root/.npm/_cacache/",
      "root/.npm/_cacache/y",
      "workspace/node_modules/",
      "workspace/node_modules/link",
      "workspace/node_modules/x/",
      "workspace/node_modules/x/index.js",
    ]);

    rmSync(join(d.workspace, "node_modules"), { recursive: true });
    rmSync(join(d.outside, "root"), { recursive: true });
    mkdirSync(join(d.outside, "root/.npm"), { recursive: true }); // the pod's mount: there, empty
    const second = await open(d);
    await second.cache.restore("main", "main");
    assert.match(
      second.lines[0]!,
      new RegExp(`^cache: restored ${second.cache.key} \\(exact, [\\d.]+ k?B, [\\d.]+ s\\)$`),
    );
    assert.equal(readFileSync(join(d.workspace, "node_modules/x/index.js"), "utf8"), "x");
    assert.equal(readFileSync(join(d.workspace, "node_modules/link"), "utf8"), "x");
    assert.ok(lstatSync(join(d.workspace, "node_modules/link")).isSymbolicLink());
    assert.equal(readFileSync(join(d.outside, "root/.npm/_cacache/y"), "utf8"), "y");
    const mode = statSync(join(d.workspace, "node_modules/x/index.js")).mode & 0o777;
    assert.equal(mode & 0o060, 0o060, `group may write what its owner may (mode ${mode.toString(8)})`);
    assert.equal(statSync(join(d.workspace, "node_modules/x")).mode & 0o070, 0o070);
    await second.cache.save({ fork: false, branch: "main" });
    assert.equal(second.lines[1], `cache: not saved (${second.cache.key} was restored exactly)`);
  });

  test("a changed lock file misses the exact key and falls back to the newest of the prefix, own branch first", async (t) => {
    const d = dirs(t);
    write(join(d.workspace, "package-lock.json"), "v1");
    write(join(d.workspace, "node_modules/v"), "1");
    const spec = { key: "npm", paths: ["node_modules"], files: ["package-lock.json"] };
    const onMain = await open(d, spec, "main");
    await onMain.cache.save({ fork: false, branch: "main" });
    rmSync(join(d.workspace, "node_modules"), { recursive: true });

    write(join(d.workspace, "package-lock.json"), "v2");
    const feature = await open(d, spec, "feature");
    assert.notEqual(feature.cache.key, onMain.cache.key);
    await feature.cache.restore("feature", "main");
    assert.match(feature.lines[0]!, /^cache: restored npm-[0-9a-f]{32} \(fallback from branch main, /);
    assert.ok(feature.lines[0]!.includes(onMain.cache.key), "the key it found");
    assert.equal(readFileSync(join(d.workspace, "node_modules/v"), "utf8"), "1");
    write(join(d.workspace, "node_modules/v"), "2");
    await feature.cache.save({ fork: false, branch: "feature" });
    assert.match(feature.lines[1]!, /^cache: saved /);

    rmSync(join(d.workspace, "node_modules"), { recursive: true });
    const other = await open(d, { ...spec, key: "pip" }, "feature");
    await other.cache.restore("feature", "main");
    assert.deepEqual(other.lines, [`cache: miss (${other.cache.key})`]);
    assert.equal(existsSync(join(d.workspace, "node_modules")), false);
  });

  test("only the entries of the paths listed now are restored (a fallback saved with other paths)", async (t) => {
    const d = dirs(t);
    write(join(d.workspace, "a/1"), "a");
    write(join(d.workspace, "b/1"), "b");
    const both = await open(d, { key: "k", paths: ["a", "b"] });
    await both.cache.save({ fork: false, branch: "main" });
    rmSync(join(d.workspace, "a"), { recursive: true });
    rmSync(join(d.workspace, "b"), { recursive: true });
    const onlyA = await open(d, { key: "k", paths: ["a", "c"] });
    await onlyA.cache.restore("main", "main");
    assert.match(onlyA.lines[0]!, /^cache: restored /);
    assert.equal(existsSync(join(d.workspace, "a/1")), true);
    assert.equal(existsSync(join(d.workspace, "b")), false);
    assert.equal(existsSync(join(d.workspace, "c")), false);
  });

  test("nothing is written through a symbolic link of the archive, nor outside the paths", async (t) => {
    const d = dirs(t);
    const target = join(d.base, "target");
    mkdirSync(target);
    // An archive made by hand: a link node_modules/l → target, then node_modules/l/evil, and ../escape.
    const a = join(d.base, "a");
    const b = join(d.base, "b");
    mkdirSync(join(a, "workspace/node_modules"), { recursive: true });
    symlinkSync(target, join(a, "workspace/node_modules/l"));
    write(join(b, "workspace/node_modules/l/evil"), "evil");
    write(join(b, "workspace/node_modules/ok"), "ok");
    const tarFile = join(d.base, "x.tar");
    execFileSync("tar", ["-cf", tarFile, "-C", a, "workspace", "-C", b, "workspace/node_modules/l/evil"]);
    execFileSync("tar", ["-rf", tarFile, "-C", b, "workspace/node_modules/ok"]);
    const zst = zstdCompressSync(readFileSync(tarFile));
    const store: CacheStore = {
      restore: async (q) => ({
        key: q.key,
        branch: "main",
        exact: true,
        size: zst.length,
        body: Readable.from([zst]),
      }),
      save: async () => undefined,
    };
    const c = await open(d, { key: "k", paths: ["node_modules"] }, "main", store);
    await c.cache.restore("main", "main");
    assert.match(c.lines[0]!, /^cache: restored /);
    assert.equal(existsSync(join(target, "evil")), false, "not through the link");
    assert.equal(readFileSync(join(d.workspace, "node_modules/ok"), "utf8"), "ok");
  });

  test("a gzip archive is read too; anything else is a restore failure, said, never thrown", async (t) => {
    const d = dirs(t);
    const src = join(d.base, "src");
    write(join(src, "workspace/dist/f"), "gz");
    const tarBytes = execFileSync("tar", ["-cf", "-", "-C", src, "workspace"]);
    const gz = await new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      const z = createGzip();
      z.on("data", (c: Buffer) => chunks.push(c)).on("end", () => resolve(Buffer.concat(chunks)));
      z.end(tarBytes);
    });
    const serving = (bytes: Buffer): CacheStore => ({
      restore: async (q) => ({
        key: q.key,
        branch: "main",
        exact: true,
        size: bytes.length,
        body: Readable.from([bytes]),
      }),
      save: async () => undefined,
    });
    const g = await open(d, { key: "k", paths: ["dist"] }, "main", serving(gz));
    await g.cache.restore("main", "main");
    assert.equal(readFileSync(join(d.workspace, "dist/f"), "utf8"), "gz");
    rmSync(join(d.workspace, "dist"), { recursive: true });
    const bad = await open(d, { key: "k", paths: ["dist"] }, "main", serving(Buffer.from("not an archive")));
    await bad.cache.restore("main", "main");
    assert.deepEqual(bad.lines, ["cache: not restored: the archive is neither zstd nor gzip"]);
  });

  test("a store that fails: the restore and the save say so and go on", async (t) => {
    const d = dirs(t);
    write(join(d.workspace, "dist/f"), "f");
    const down: CacheStore = {
      restore: async () => {
        throw new Error("connect ECONNREFUSED 127.0.0.1:9");
      },
      save: async (_key, body) => {
        body.resume();
        throw new Error("the store answered 413: too large");
      },
    };
    rmSync(join(d.workspace, "dist"), { recursive: true });
    const c = await open(d, { key: "k", paths: ["dist"] }, "main", down);
    await c.cache.restore("main", "main");
    write(join(d.workspace, "dist/f"), "f");
    await c.cache.save({ fork: false, branch: "main" });
    assert.deepEqual(c.lines, [
      "cache: not restored: connect ECONNREFUSED 127.0.0.1:9",
      "cache: not saved: the store answered 413: too large",
    ]);
  });

  test("a store gone quiet mid-stream: given up after the stall time, what was restored taken back", async (t) => {
    const d = dirs(t);
    write(join(d.workspace, "dist/f"), "f".repeat(100_000));
    const good = await open(d, { key: "k", paths: ["dist"] });
    await good.cache.save({ fork: false, branch: "main" });
    rmSync(join(d.workspace, "dist"), { recursive: true });
    const archive = readFileSync(join(d.store, "main", `${good.cache.key}.tar.zst`));
    const quiet: CacheStore = {
      restore: async (q) => {
        const body = new PassThrough();
        body.write(archive.subarray(0, archive.length - 100)); // all but the end, then nothing
        return { key: q.key, branch: "main", exact: true, size: archive.length, body };
      },
      save: (_key, _body, signal) =>
        new Promise((_resolve, reject) => signal?.addEventListener("abort", () => reject(signal.reason))),
    };
    const lines: string[] = [];
    const cache = await BuildCache.open({
      spec: { key: "k", paths: ["dist"] },
      dirs: { workspace: d.workspace },
      store: quiet,
      say: (l) => lines.push(l),
      stallMs: 300,
    });
    await cache.restore("main", "main");
    assert.deepEqual(lines, ["cache: not restored: no byte moved for 0.3 s: given up"]);
    assert.equal(existsSync(join(d.workspace, "dist/f")), false, "no half cache left");
    write(join(d.workspace, "dist/f"), "f".repeat(5_000_000));
    await cache.save({ fork: false, branch: "main" });
    assert.deepEqual(lines.slice(1), ["cache: not saved: no byte moved for 0.3 s: given up"]);
  });

  test("a symbolic link on the way to a path or a hashed file is never followed (a repository's own link)", async (t) => {
    const d = dirs(t);
    // What the agent must never pack: its own token directory, say.
    const secrets = join(d.base, "secrets");
    write(join(secrets, "store/token"), "the agent's token");
    symlinkSync(secrets, join(d.workspace, "k"));
    write(join(secrets, "lock"), "lock through a link");
    const spec: CacheSpec = { key: "npm", paths: ["k/store", "node_modules"], files: ["k/lock"] };
    write(join(d.workspace, "node_modules/x"), "x");
    const { cache, lines } = await open(d, spec);
    assert.ok(
      lines.includes(`cache: /workspace/k/store is not cached: ${join(d.workspace, "k")} is a symbolic link`),
    );
    // The file through the link hashes as absent, as a missing one does.
    assert.equal(cache.key, `npm-${await hashOfAbsent(d.workspace)}`);
    await cache.save({ fork: false, branch: "main" });
    const names: string[] = [];
    await list({
      file: join(d.store, "main", `${cache.key}.tar.zst`),
      onReadEntry: (e) => names.push(e.path),
    });
    assert.ok(
      names.length > 0 && names.every((n) => n.startsWith("workspace/node_modules")),
      names.join(","),
    );

    // A link made on the way by a step, after the paths were checked: refused at the save.
    const late = await open(d, { key: "late", paths: ["deps/store"] });
    symlinkSync(secrets, join(d.workspace, "deps"));
    await late.cache.save({ fork: false, branch: "main" });
    assert.ok(
      late.lines.includes(
        `cache: /workspace/deps/store is not saved: ${join(d.workspace, "deps")} is a symbolic link`,
      ),
    );
    assert.ok(late.lines.includes("cache: not saved (none of its paths exist)"));
  });

  test("nothing to save: forks, tags, no path there", async (t) => {
    const d = dirs(t);
    const c = await open(d, { key: "k", paths: ["dist"] });
    await c.cache.save({ fork: true, branch: "main" });
    await c.cache.save({ fork: false, branch: undefined });
    await c.cache.save({ fork: false, branch: "main" });
    assert.deepEqual(c.lines, [
      "cache: not saved (fork)",
      "cache: not saved (tag build)",
      "cache: not saved (none of its paths exist)",
    ]);
    assert.equal(existsSync(d.store), false);
  });

  test("without a place for paths outside the workspace, they are said to be left out", async (t) => {
    const d = dirs(t);
    const lines: string[] = [];
    await BuildCache.open({
      spec: NPM,
      dirs: { workspace: d.workspace },
      store: localCacheStore(d.store, "main"),
      say: (l) => lines.push(l),
    });
    assert.deepEqual(lines, ["cache: /root/.npm is outside the workspace and not cached here"]);
  });
});

test("noSaveReason", () => {
  const base = { fork: false, branch: "main", restoredExact: false, key: "npm-1" };
  assert.equal(noSaveReason(base), undefined);
  assert.equal(noSaveReason({ ...base, fork: true }), "fork");
  assert.equal(noSaveReason({ ...base, branch: undefined }), "tag build");
  assert.equal(noSaveReason({ ...base, restoredExact: true }), "npm-1 was restored exactly");
});

test("readable: by owner, group or others, as the kernel decides (root reads everything)", () => {
  const stat = (mode: number, uid: number, gid: number, dir = false) => ({
    mode,
    uid,
    gid,
    isDirectory: () => dir,
  });
  const kiln = { uid: 65532, groups: [65532] };
  assert.equal(readable(stat(0o600, 0, 65532), kiln), false, "root's private file, even in our group");
  assert.equal(readable(stat(0o640, 0, 65532), kiln), true, "group-readable, our group");
  assert.equal(readable(stat(0o640, 0, 0), kiln), false);
  assert.equal(readable(stat(0o644, 0, 0), kiln), true);
  assert.equal(readable(stat(0o744, 0, 0, true), kiln), false, "a directory needs x to be listed");
  assert.equal(readable(stat(0o755, 0, 0, true), kiln), true);
  assert.equal(readable(stat(0o400, 65532, 0), kiln), true);
  assert.equal(readable(stat(0o044, 65532, 65532), kiln), false, "the owner's bits decide for the owner");
  assert.equal(readable(stat(0o000, 1, 1), { uid: 0, groups: [0] }), true);
});
