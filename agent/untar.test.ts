import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, test } from "node:test";
import { allLikeOwner, groupLikeOwner, parsePax, placeOf, Untar, UntarWorker } from "./untar.ts";

function scratch(t: { after(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), "kiln-untar-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** GNU tar's archive of `names` under `dir`, in its own (gnu) or the pax format. */
const tarOf = (dir: string, names: string[], format = "gnu") =>
  execFileSync("tar", ["-c", `--format=${format}`, "-f", "-", "-C", dir, ...names], { maxBuffer: 1 << 26 });

/** Feeds `bytes` in pieces of `piece` (headers split across writes too). */
async function extract(bytes: Buffer, into: Writable, piece = 700) {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += piece) parts.push(bytes.subarray(i, i + piece));
  await pipeline(Readable.from(parts), into);
}

const LONG = `${"d".repeat(60)}/${"e".repeat(60)}/${"f".repeat(80)}.js`;

describe("Untar", () => {
  for (const format of ["gnu", "pax", "ustar"]) {
    test(`${format}: files, directories, links, modes and times; long names where the format has them`, async (t) => {
      const d = scratch(t);
      const src = join(d, "src");
      mkdirSync(join(src, "w/sub"), { recursive: true });
      writeFileSync(join(src, "w/sub/a.txt"), "a".repeat(5000));
      writeFileSync(join(src, "w/empty"), "");
      writeFileSync(join(src, "w/run.sh"), "#!/bin/sh\n", { mode: 0o755 });
      symlinkSync("sub/a.txt", join(src, "w/link"));
      linkSync(join(src, "w/sub/a.txt"), join(src, "w/hard"));
      if (format !== "ustar") {
        mkdirSync(join(src, "w", LONG, ".."), { recursive: true });
        writeFileSync(join(src, "w", LONG), "long");
      }
      execFileSync("touch", ["-d", "2020-01-02T03:04:05Z", join(src, "w/sub/a.txt")]);
      const out = join(d, "out");
      const untar = new Untar({
        place: (name) => placeOf([{ name: "w", dir: out }], name),
        mode: groupLikeOwner,
      });
      await extract(tarOf(src, ["w"], format), untar);
      assert.equal(readFileSync(join(out, "sub/a.txt"), "utf8"), "a".repeat(5000));
      assert.equal(readFileSync(join(out, "empty"), "utf8"), "");
      assert.equal(readlinkSync(join(out, "link")), "sub/a.txt");
      assert.equal(statSync(join(out, "hard")).ino, statSync(join(out, "sub/a.txt")).ino, "a hard link");
      assert.equal(statSync(join(out, "run.sh")).mode & 0o777, 0o775);
      assert.equal(statSync(join(out, "sub/a.txt")).mode & 0o777, 0o664);
      assert.equal(statSync(join(out, "sub")).mode & 0o777, 0o775);
      assert.equal(statSync(join(out, "sub/a.txt")).mtime.toISOString(), "2020-01-02T03:04:05.000Z");
      if (format !== "ustar") assert.equal(readFileSync(join(out, LONG), "utf8"), "long");
      assert.deepEqual([...untar.skipped], []);
    });
  }

  test("nothing through a link the archive made, nothing climbing out, nothing without a place", async (t) => {
    const d = scratch(t);
    const target = join(d, "target");
    mkdirSync(target);
    const a = join(d, "a");
    const b = join(d, "b");
    mkdirSync(join(a, "w"), { recursive: true });
    symlinkSync(target, join(a, "w/l"));
    mkdirSync(join(b, "w/l"), { recursive: true });
    writeFileSync(join(b, "w/l/evil"), "evil");
    mkdirSync(join(b, "other"));
    writeFileSync(join(b, "other/x"), "x");
    writeFileSync(join(b, "w/ok"), "ok");
    // One archive: the link, then a file under it, then a file elsewhere, then a fine one.
    const tarFile = join(d, "x.tar");
    writeFileSync(tarFile, tarOf(a, ["w/l"]));
    execFileSync("tar", ["-rf", tarFile, "-C", b, "w/l/evil", "other/x", "w/ok"]);
    const out = join(d, "out");
    const untar = new Untar({ place: (name) => placeOf([{ name: "w", dir: out }], name) });
    await extract(readFileSync(tarFile), untar);
    assert.equal(existsSync(join(target, "evil")), false);
    assert.equal(readFileSync(join(out, "ok"), "utf8"), "ok");
    assert.equal(existsSync(join(d, "other")), false);
    assert.deepEqual(Object.fromEntries(untar.skipped), {
      "through a symbolic link": 1,
      "not a path of this cache": 1, // other/x
    });
  });

  for (const linkName of ["/w/l", "w//l", "w/./l", "./w/l"]) {
    test(`a link named ${linkName} is the link w/l: nothing is written through it`, async (t) => {
      const d = scratch(t);
      const target = join(d, "target");
      mkdirSync(target);
      const a = join(d, "a");
      const b = join(d, "b");
      mkdirSync(join(a, "w"), { recursive: true });
      symlinkSync(target, join(a, "w/l"));
      mkdirSync(join(b, "w/l"), { recursive: true });
      writeFileSync(join(b, "w/l/evil"), "evil");
      const tarFile = join(d, "x.tar");
      const rename = `s,^w/l$,${linkName},`;
      writeFileSync(
        tarFile,
        execFileSync("tar", ["-c", "-P", "--transform", rename, "-f", "-", "-C", a, "w/l"]),
      );
      execFileSync("tar", ["-rf", tarFile, "-C", b, "w/l/evil"]);
      assert.ok(execFileSync("tar", ["-tPf", tarFile], { encoding: "utf8" }).startsWith(`${linkName}\n`));
      const out = join(d, "out");
      const untar = new Untar({ place: (name) => placeOf([{ name: "w", dir: out }], name) });
      await extract(readFileSync(tarFile), untar);
      assert.equal(existsSync(join(target, "evil")), false);
    });
  }

  test("a directory that was there (a mount point) keeps its mode; the ones it makes get theirs", async (t) => {
    const d = scratch(t);
    const src = join(d, "src");
    mkdirSync(join(src, "w/sub"), { recursive: true, mode: 0o700 });
    execFileSync("chmod", ["700", join(src, "w"), join(src, "w/sub")]);
    const out = join(d, "out");
    mkdirSync(out, { mode: 0o755 });
    execFileSync("chmod", ["755", out]);
    await extract(
      tarOf(src, ["w"]),
      new Untar({ place: (n) => placeOf([{ name: "w", dir: out }], n), mode: groupLikeOwner }),
    );
    assert.equal(statSync(out).mode & 0o777, 0o755);
    assert.equal(statSync(join(out, "sub")).mode & 0o777, 0o770);
    // Under a setgid directory (a pod's volume), what it makes stays setgid.
    const shared = join(d, "shared");
    mkdirSync(shared);
    execFileSync("chmod", ["2777", shared]);
    await extract(
      tarOf(src, ["w"]),
      new Untar({ place: (n) => placeOf([{ name: "w", dir: join(shared, "w") }], n), mode: groupLikeOwner }),
    );
    assert.equal(statSync(join(shared, "w/sub")).mode & 0o7777, 0o2770);
  });

  test("an entry made twice replaces the first: a file where the archive made a link is not written through it", async (t) => {
    const d = scratch(t);
    const target = join(d, "target");
    writeFileSync(target, "keep");
    const a = join(d, "a");
    const b = join(d, "b");
    mkdirSync(join(a, "w"), { recursive: true });
    symlinkSync(target, join(a, "w/f"));
    mkdirSync(join(b, "w"), { recursive: true });
    writeFileSync(join(b, "w/f"), "new");
    const tarFile = join(d, "x.tar");
    writeFileSync(tarFile, tarOf(a, ["w/f"]));
    execFileSync("tar", ["-rf", tarFile, "-C", b, "w/f"]);
    const out = join(d, "out");
    await extract(readFileSync(tarFile), new Untar({ place: (n) => placeOf([{ name: "w", dir: out }], n) }));
    assert.equal(readFileSync(target, "utf8"), "keep");
    assert.equal(lstatSync(join(out, "f")).isFile(), true);
    assert.equal(readFileSync(join(out, "f"), "utf8"), "new");
  });

  test("a cut archive and a corrupt header are errors; FIFOs are left out", async (t) => {
    const d = scratch(t);
    const src = join(d, "src");
    mkdirSync(join(src, "w"), { recursive: true });
    writeFileSync(join(src, "w/big"), "b".repeat(20_000));
    execFileSync("mkfifo", [join(src, "w/fifo")]);
    const whole = tarOf(src, ["w"]);
    const place = (n: string) => placeOf([{ name: "w", dir: join(d, "out") }], n);
    await assert.rejects(
      extract(whole.subarray(0, 5000), new Untar({ place })),
      /ends in the middle of an entry/,
    );
    const corrupt = Buffer.from(whole);
    corrupt[10] = 0x41;
    await assert.rejects(extract(corrupt, new Untar({ place })), /checksum is wrong/);
    rmSync(join(d, "out"), { recursive: true, force: true });
    const untar = new Untar({ place });
    await extract(whole, untar);
    assert.deepEqual(Object.fromEntries(untar.skipped), { 'type "6"': 1 });
  });

  test("in a worker: the same extraction, errors come back, the worker ends", async (t) => {
    const d = scratch(t);
    const src = join(d, "src");
    mkdirSync(join(src, "w/x"), { recursive: true });
    for (let i = 0; i < 50; i++) writeFileSync(join(src, `w/x/${i}`), String(i).repeat(10_000));
    const bytes = tarOf(src, ["w"]);
    const out = join(d, "out");
    const worker = new UntarWorker([{ name: "w", dir: out }]);
    await extract(bytes, worker, 64 * 1024);
    assert.equal(readFileSync(join(out, "x/49"), "utf8"), "49".repeat(10_000));
    assert.equal(statSync(join(out, "x/3")).mode & 0o060, 0o060);
    await assert.rejects(
      extract(bytes.subarray(0, 30_000), new UntarWorker([{ name: "w", dir: join(d, "cut") }])),
      /ends in the middle of an entry/,
    );
  });
});

test("placeOf: a name is its place or under it", () => {
  const places = [
    { name: "workspace/node_modules", dir: "/ws/node_modules" },
    { name: "root/.npm", dir: "/kiln-cache/root/.npm" },
  ];
  assert.equal(placeOf(places, "workspace/node_modules"), "/ws/node_modules");
  assert.equal(placeOf(places, "workspace/node_modules/a/b"), "/ws/node_modules/a/b");
  assert.equal(placeOf(places, "workspace/node_modules2/a"), undefined);
  assert.equal(placeOf(places, "root/.npm/_cacache"), "/kiln-cache/root/.npm/_cacache");
  assert.equal(placeOf(places, "etc/passwd"), undefined);
});

test("parsePax, groupLikeOwner, allLikeOwner", () => {
  const rec = (k: string, v: string) => {
    const body = ` ${k}=${v}\n`;
    const bytes = Buffer.byteLength(body);
    let n = bytes + 1;
    while (String(n).length + bytes !== n) n++;
    return `${n}${body}`;
  };
  assert.deepEqual(parsePax(Buffer.from(rec("path", "a/ü b") + rec("size", "12"))), {
    path: "a/ü b",
    size: "12",
  });
  assert.deepEqual(parsePax(Buffer.from("garbage")), {});
  const entry = (mode: number) => ({ name: "x", type: "file" as const, mode, mtime: 0, size: 0 });
  assert.equal(groupLikeOwner(entry(0o644)), 0o664);
  assert.equal(groupLikeOwner(entry(0o700)), 0o770);
  assert.equal(groupLikeOwner(entry(0o4755)), 0o775, "no setuid");
  assert.equal(allLikeOwner(entry(0o644)), 0o666);
  assert.equal(allLikeOwner(entry(0o750)), 0o777);
});
