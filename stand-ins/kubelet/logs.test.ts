import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import { after, describe, test } from "node:test";
import { ContainerLog, LogStore } from "./logs.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kubelet-logs-test-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("ContainerLog", () => {
  test("lines, partial lines, tail, since and timestamps", async () => {
    let now = new Date("2026-01-01T00:00:00.000Z");
    const log = new ContainerLog(path.join(dir, "a.log"), 1 << 20, () => now);
    log.write("stdout", "one\ntw");
    log.write("stderr", "err\n");
    log.write("stdout", "o\n");
    now = new Date("2026-01-01T00:01:00.000Z");
    log.write("stdout", "three");
    log.close();
    assert.equal(await text(log.read({ follow: false })), "one\nerr\ntwo\nthree\n");
    assert.equal(await text(log.read({ follow: false, tailLines: 2 })), "two\nthree\n");
    assert.equal(await text(log.read({ follow: false, tailLines: 0 })), "");
    assert.equal(await text(log.read({ follow: false, sinceSeconds: 10 })), "three\n");
    assert.equal(
      await text(log.read({ follow: false, tailLines: 1, timestamps: true })),
      "2026-01-01T00:01:00.000Z three\n",
    );
    assert.match(fs.readFileSync(log.file, "utf8"), /^2026-01-01T00:00:00.000Z stdout F one\n/);
  });

  test("a carriage return is part of its line (a terminal's output, a progress bar)", async () => {
    const log = new ContainerLog(path.join(dir, "cr.log"), 1 << 20);
    log.write("stdout", "on a tty\r\n10%\r50%\r100%\n");
    log.close();
    assert.equal(await text(log.read({ follow: false })), "on a tty\r\n10%\r50%\r100%\n");
  });

  test("follow streams new lines and ends when the container ends", async () => {
    const log = new ContainerLog(path.join(dir, "b.log"), 1 << 20);
    log.write("stdout", "before\n");
    const stream = log.read({ follow: true });
    const all = text(stream);
    log.write("stdout", "after\n");
    log.close();
    assert.equal(await all, "before\nafter\n");
  });

  test("a UTF-8 character split across two reads arrives whole", async () => {
    const log = new ContainerLog(path.join(dir, "utf8.log"), 1 << 20);
    const bytes = Buffer.from("café ✓\n");
    log.write("stdout", bytes.subarray(0, 4)); // "caf" and the first byte of "é"
    log.write("stdout", bytes.subarray(4, 8)); // the rest of "é", a space, two bytes of "✓"
    log.write("stdout", bytes.subarray(8));
    log.close();
    assert.equal(await text(log.read({ follow: false })), "café ✓\n");
  });

  test("bounded: rotates into one older file", async () => {
    const log = new ContainerLog(path.join(dir, "c.log"), 200);
    for (let i = 0; i < 50; i++) log.write("stdout", `line ${i}\n`);
    log.close();
    const lines = (await text(log.read({ follow: false }))).trim().split("\n");
    assert.ok(lines.length < 20, `kept ${lines.length} lines`);
    assert.equal(lines.at(-1), "line 49");
    assert.ok(fs.statSync(log.file).size <= 200);
  });
});

describe("LogStore", () => {
  test("current and previous runs, a recreated pod starts afresh", async () => {
    const store = new LogStore(dir);
    const first = store.open("ns", "p", "uid-1", "c");
    first.write("stdout", "run 1\n");
    const second = store.open("ns", "p", "uid-1", "c");
    second.write("stdout", "run 2\n");
    second.close();
    const read = (s: Readable | undefined) => (s ? text(s) : Promise.resolve(undefined));
    assert.equal(await read(store.read("ns", "p", "c", { follow: false })), "run 2\n");
    assert.equal(await read(store.read("ns", "p", "c", { follow: false, previous: true })), "run 1\n");
    assert.equal(store.read("ns", "p", "other", { follow: false }), undefined);
    store.open("ns", "p", "uid-2", "c").close();
    assert.equal(store.read("ns", "p", "c", { follow: false, previous: true }), undefined);
    store.remove("ns", "p");
    assert.equal(store.read("ns", "p", "c", { follow: false }), undefined);
  });
});
