import { describe, test } from "node:test";
import type { KubernetesObject } from "@kubernetes/client-node";
import { waitFor } from "../../test/wait-for.ts";
import { FakeClock } from "./clock.ts";
import { Informer, type InformerSource, type WatchEventType } from "./informer.ts";

/** Lets pending promise callbacks run (the informer's loop) without moving any clock. */
const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
};

type Obj = KubernetesObject & { metadata: { name: string; namespace: string; resourceVersion: string } };

const obj = (name: string, rv: number, labels: Record<string, string> = {}, namespace = "ci"): Obj => ({
  metadata: { name, namespace, resourceVersion: String(rv), labels },
});

/** A scripted API: a list answer, and watch sessions the test drives by hand. */
class FakeSource implements InformerSource<Obj> {
  items: Obj[] = [];
  rv = 1;
  lists = 0;
  watches: Array<{ rv: string; emit: (type: WatchEventType, o: Obj) => void; end: (err?: unknown) => void }> =
    [];
  async list() {
    this.lists++;
    return { items: structuredClone(this.items), metadata: { resourceVersion: String(this.rv) } };
  }
  async watch(rv: string, onEvent: (type: WatchEventType, o: Obj) => void, done: (err?: unknown) => void) {
    let aborted = false;
    this.watches.push({
      rv,
      emit: (type, o) => !aborted && onEvent(type, o),
      end: (err) => !aborted && done(err),
    });
    return {
      abort: () => {
        aborted = true;
      },
    };
  }
}

describe("Informer", () => {
  test("stop ends the watch under way, leaving no timer, even when the source does not report the abort", async (t) => {
    const source = new FakeSource(); // its abort() never calls done, as client-node's watch may not
    const clock = new FakeClock();
    const informer = new Informer("test", source, { clock, minBackoffMs: 1, stallMs: 60_000, resyncMs: 0 });
    informer.start();
    await informer.synced();
    await waitFor("the watch", () => source.watches.length === 1, 2000);
    t.assert.equal(clock.pendingTimers(), 1, "the stall timer of the watch");
    informer.stop();
    await settle();
    t.assert.equal(clock.pendingTimers(), 0, "nothing keeps a process alive after stop()");
    t.assert.equal(source.watches.length, 1, "and no new watch");
  });

  test("lists, watches, keeps the cache and a label index", async (t) => {
    const source = new FakeSource();
    source.items = [obj("a", 1, { repo: "x" }), obj("b", 1, { repo: "y" })];
    const informer = new Informer("test", source, { minBackoffMs: 1, resyncMs: 0 });
    informer.addIndex("repo", (o) => [o.metadata?.labels?.repo ?? ""]);
    const seen: string[] = [];
    informer.on((type, o) => seen.push(`${type}:${o.metadata?.name}`));
    informer.start();
    await informer.synced();
    await waitFor("watch 1", () => source.watches.length === 1, 2000);
    t.assert.equal(source.watches[0]!.rv, "1");
    source.watches[0]!.emit("ADDED", obj("c", 2, { repo: "x" }));
    source.watches[0]!.emit("MODIFIED", obj("a", 3, { repo: "y" }));
    source.watches[0]!.emit("DELETED", obj("b", 4, { repo: "y" }));
    t.assert.deepEqual(
      informer.byIndex("repo", "x").map((o) => o.metadata?.name),
      ["c"],
    );
    t.assert.deepEqual(
      informer.byIndex("repo", "y").map((o) => o.metadata?.name),
      ["a"],
    );
    t.assert.equal(informer.list("ci").length, 2);
    t.assert.deepEqual(seen, ["add:a", "add:b", "add:c", "update:a", "delete:b"]);
    informer.stop();
  });

  test("after an error other than 410 it watches again from the last resourceVersion, with backoff", async (t) => {
    const source = new FakeSource();
    const informer = new Informer("test", source, { minBackoffMs: 5, resyncMs: 0 });
    informer.start();
    await waitFor("watch 1", () => source.watches.length === 1, 2000);
    source.watches[0]!.emit("ADDED", obj("a", 7));
    source.watches[0]!.end(Object.assign(new Error("ECONNRESET"), { code: "ECONNRESET" }));
    await waitFor("watch 2", () => source.watches.length === 2, 2000);
    t.assert.equal(source.watches[1]!.rv, "7");
    t.assert.equal(source.lists, 1, "no relist needed");
    t.assert.equal(informer.restarts, 1);
    informer.stop();
  });

  test("a 410 relists, and objects gone meanwhile are reported deleted", async (t) => {
    const source = new FakeSource();
    source.items = [obj("a", 1), obj("b", 1)];
    const informer = new Informer("test", source, { minBackoffMs: 1, resyncMs: 0 });
    const deleted: string[] = [];
    informer.on((type, o) => type === "delete" && deleted.push(o.metadata!.name!));
    informer.start();
    await waitFor("watch 1", () => source.watches.length === 1, 2000);
    source.items = [obj("b", 9)];
    source.rv = 9;
    source.watches[0]!.emit("ERROR", { code: 410 } as unknown as Obj);
    await waitFor("watch 2", () => source.watches.length === 2, 2000);
    t.assert.equal(source.lists, 2);
    t.assert.equal(source.watches[1]!.rv, "9");
    t.assert.deepEqual(deleted, ["a"]);
    t.assert.equal(informer.get("ci", "b")?.metadata?.resourceVersion, "9");
    informer.stop();
  });

  test("a watch that goes silent is restarted; bookmarks count as life and advance the resourceVersion", async (t) => {
    // Time is the test's: the watch goes silent exactly when the clock says so, however busy the machine.
    const clock = new FakeClock(1_000_000);
    const source = new FakeSource();
    const informer = new Informer("test", source, { clock, minBackoffMs: 1, stallMs: 100, resyncMs: 0 });
    informer.start();
    await waitFor("watch 1", () => source.watches.length === 1, 2000);
    for (let i = 0; i < 4; i++) {
      clock.advance(60);
      source.watches[0]!.emit("BOOKMARK", { metadata: { resourceVersion: String(10 + i) } } as Obj);
    }
    clock.advance(99);
    await settle();
    t.assert.equal(
      source.watches.length,
      1,
      "240 ms of bookmarks, each within 100 ms of the last, kept it alive",
    );
    t.assert.equal(informer.restarts, 0);
    clock.advance(1);
    await settle();
    t.assert.equal(informer.restarts, 1, "silent for exactly stallMs: given up");
    await waitFor("watch 2", () => {
      clock.advance(1); // the restart's backoff runs on the same clock
      return source.watches.length === 2;
    });
    t.assert.equal(source.watches[1]!.rv, "13");
    informer.stop();
  });

  test("a failing list is retried until it succeeds", async (t) => {
    const source = new FakeSource();
    let failures = 3;
    const list = source.list.bind(source);
    source.list = async () => {
      if (failures-- > 0) throw new Error("503");
      return list();
    };
    const informer = new Informer("test", source, { minBackoffMs: 1, resyncMs: 0 });
    informer.start();
    await informer.synced();
    t.assert.equal(informer.restarts, 3);
    informer.stop();
  });

  test("resync hands every cached object to the handlers again", async (t) => {
    const source = new FakeSource();
    source.items = [obj("a", 1), obj("b", 1)];
    const informer = new Informer("test", source, { minBackoffMs: 1, resyncMs: 20 });
    const resynced = new Set<string>();
    informer.on((type, o) => type === "resync" && resynced.add(o.metadata!.name!));
    informer.start();
    await waitFor("both objects resynced", () => resynced.size === 2, 2000);
    t.assert.deepEqual([...resynced].sort(), ["a", "b"]);
    informer.stop();
  });
});
