import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FakeClock } from "./clock.ts";
import {
  decideLease,
  LeaderElector,
  type LeaseRecord,
  type LeaseStore,
  type StoredLease,
} from "./leader-election.ts";

/** An in-memory Lease with resourceVersion checks, like the API server's. */
class MemoryLeaseStore implements LeaseStore {
  lease: StoredLease | undefined;
  #version = 0;
  failing = false;
  writes = 0;

  async get() {
    if (this.failing) throw new Error("connection refused");
    return this.lease && structuredClone(this.lease);
  }
  async create(record: LeaseRecord) {
    if (this.failing) throw new Error("connection refused");
    if (this.lease) throw Object.assign(new Error("exists"), { code: 409 });
    this.writes++;
    this.lease = { record, version: String(++this.#version) };
    return structuredClone(this.lease);
  }
  async update(record: LeaseRecord, version: string) {
    if (this.failing) throw new Error("connection refused");
    if (this.lease?.version !== version) throw Object.assign(new Error("conflict"), { code: 409 });
    this.writes++;
    this.lease = { record, version: String(++this.#version) };
    return structuredClone(this.lease);
  }
}

const flush = () => new Promise((r) => setImmediate(r));

async function advance(clock: FakeClock, ms: number, step = 100) {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    await flush();
  }
}

function candidate(store: LeaseStore, clock: FakeClock, identity: string) {
  const events: string[] = [];
  const elector = new LeaderElector({
    store,
    clock,
    identity,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    onStartedLeading: () => events.push("started"),
    onStoppedLeading: () => events.push("stopped"),
  });
  return { elector, events };
}

describe("decideLease", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  test("no lease: create one held by us", (t) => {
    const d = decideLease(undefined, undefined, "a", now, 15_000);
    t.assert.equal(d.action, "create");
    t.assert.equal(d.action === "create" && d.record.holderIdentity, "a");
  });
  test("held by another and seen recently: wait", (t) => {
    const record = { holderIdentity: "b", leaseDurationSeconds: 15, renewTime: "x", leaseTransitions: 3 };
    const d = decideLease(record, { record, seenAt: now - 14_000 }, "a", now, 15_000);
    t.assert.deepEqual(d, { action: "wait", holder: "b" });
  });
  test("held by another but unchanged for the lease duration (our clock): take it, one more transition", (t) => {
    const record = { holderIdentity: "b", leaseDurationSeconds: 15, renewTime: "x", leaseTransitions: 3 };
    const d = decideLease(record, { record, seenAt: now - 15_000 }, "a", now, 15_000);
    t.assert.equal(d.action, "update");
    t.assert.equal(d.action === "update" && d.record.leaseTransitions, 4);
  });
  test("a record we have just seen changed counts from now, whatever its renewTime says", (t) => {
    const record = { holderIdentity: "b", leaseDurationSeconds: 15, renewTime: "1970-01-01T00:00:00Z" };
    t.assert.equal(decideLease(record, undefined, "a", now, 15_000).action, "wait");
  });
  test("released (no holder): take it at once", (t) => {
    const record = { holderIdentity: "", leaseDurationSeconds: 1, renewTime: "x" };
    t.assert.equal(decideLease(record, { record, seenAt: now }, "a", now, 15_000).action, "update");
  });
  test("held by us: renew, keeping acquireTime and transitions", (t) => {
    const record = { holderIdentity: "a", acquireTime: "t0", renewTime: "t1", leaseTransitions: 2 };
    const d = decideLease(record, { record, seenAt: now }, "a", now, 15_000);
    t.assert.equal(d.action, "update");
    if (d.action === "update") {
      t.assert.equal(d.record.acquireTime, "t0");
      t.assert.equal(d.record.leaseTransitions, 2);
      t.assert.equal(d.record.renewTime, new Date(now).toISOString());
    }
  });
});

describe("LeaderElector", () => {
  test("only one of two candidates leads; when the leader dies the other takes over after the lease expires", async (t) => {
    const clock = new FakeClock(Date.parse("2026-01-01T00:00:00Z"));
    const store = new MemoryLeaseStore();
    let aDead = false;
    // a's view of the API: cut off entirely once it "dies", so it can neither renew nor release.
    const aStore: LeaseStore = {
      get: () => (aDead ? new Promise(() => {}) : store.get()),
      create: (r) => store.create(r),
      update: (r, v) => (aDead ? new Promise(() => {}) : store.update(r, v)),
    };
    const a = candidate(aStore, clock, "a");
    const b = candidate(store, clock, "b");
    a.elector.start();
    await advance(clock, 100);
    b.elector.start();
    await advance(clock, 10_000);
    t.assert.deepEqual(a.events, ["started"]);
    t.assert.deepEqual(b.events, []);
    // a dies without releasing (kill -9): b must wait a whole lease duration from its last sight of a renewal.
    const diedAt = clock.now();
    aDead = true;
    await advance(clock, 12_000);
    t.assert.deepEqual(b.events, [], "b waits while the lease may still be valid");
    await advance(clock, 8_000);
    t.assert.deepEqual(b.events, ["started"]);
    assert.ok(clock.now() - diedAt >= 15_000);
    t.assert.equal(store.lease?.record.holderIdentity, "b");
    t.assert.equal(store.lease?.record.leaseTransitions, 1);
    await b.elector.stop();
  });

  test("a leader that cannot renew stops acting before the lease could expire for others", async (t) => {
    const clock = new FakeClock(Date.parse("2026-01-01T00:00:00Z"));
    const store = new MemoryLeaseStore();
    const a = candidate(store, clock, "a");
    a.elector.start();
    await advance(clock, 500);
    t.assert.deepEqual(a.events, ["started"]);
    const lastRenew = Date.parse(store.lease!.record.renewTime!);
    store.failing = true;
    await advance(clock, 9_000);
    t.assert.deepEqual(a.events, ["started"]);
    await advance(clock, 2_000);
    t.assert.deepEqual(a.events, ["started", "stopped"]);
    assert.ok(clock.now() - lastRenew < 15_000, "stopped before anyone else could take the lease");
    t.assert.equal(a.elector.isLeader, false);
    // When the API comes back it campaigns again and, the lease still being its own, leads again.
    store.failing = false;
    await advance(clock, 3_000);
    t.assert.deepEqual(a.events, ["started", "stopped", "started"]);
    await a.elector.stop();
  });

  test("a hanging renew call still ends leadership at the deadline", async (t) => {
    const clock = new FakeClock(Date.parse("2026-01-01T00:00:00Z"));
    const store = new MemoryLeaseStore();
    const a = candidate(store, clock, "a");
    a.elector.start();
    await advance(clock, 500);
    const hang = new Promise<never>(() => {});
    store.get = () => hang;
    await advance(clock, 10_500);
    t.assert.deepEqual(a.events, ["started", "stopped"]);
  });

  test("a clean stop releases the lease so another candidate takes over without waiting", async (t) => {
    const clock = new FakeClock(Date.parse("2026-01-01T00:00:00Z"));
    const store = new MemoryLeaseStore();
    const a = candidate(store, clock, "a");
    const b = candidate(store, clock, "b");
    a.elector.start();
    await advance(clock, 500);
    b.elector.start();
    await advance(clock, 3_000);
    await a.elector.stop();
    t.assert.deepEqual(a.events, ["started", "stopped"]);
    t.assert.equal(store.lease?.record.holderIdentity, "");
    await advance(clock, 3_000);
    t.assert.deepEqual(b.events, ["started"]);
    await b.elector.stop();
  });

  test("rejects a renew deadline not shorter than the lease", (t) => {
    t.assert.throws(
      () =>
        new LeaderElector({
          store: new MemoryLeaseStore(),
          identity: "a",
          leaseDurationMs: 5_000,
          renewDeadlineMs: 5_000,
          onStartedLeading() {},
          onStoppedLeading() {},
        }),
      /renewDeadline/,
    );
  });
});
