// Leader election on a coordination.k8s.io/v1 Lease, after client-go's leaderelection: a candidate
// takes the lease when it is free or its holder has not renewed it for leaseDuration (measured on OUR
// clock from when we last saw the record change, so clock skew between machines does not matter);
// the leader renews every retryPeriod and, if it cannot renew for renewDeadline, stops acting at once,
// before anyone else may take over (renewDeadline < leaseDuration). A clean shutdown releases the lease.
import type { Logger } from "../log.ts";
import { type Clock, systemClock, type Timer } from "./clock.ts";

export interface LeaseRecord {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface StoredLease {
  record: LeaseRecord;
  /** resourceVersion: an update with a stale one fails (409), which is what makes the election safe. */
  version: string;
}

export interface LeaseStore {
  get(): Promise<StoredLease | undefined>;
  create(record: LeaseRecord): Promise<StoredLease>;
  update(record: LeaseRecord, version: string): Promise<StoredLease>;
}

export interface Observation {
  /** The record as last read, and when (our clock) it was first seen in that form. */
  record: LeaseRecord;
  seenAt: number;
}

export type LeaseDecision =
  | { action: "create"; record: LeaseRecord }
  | { action: "update"; record: LeaseRecord }
  | { action: "wait"; holder: string };

/** What a candidate should do with the lease as it is now. Pure. */
export function decideLease(
  current: LeaseRecord | undefined,
  observation: Observation | undefined,
  identity: string,
  now: number,
  leaseDurationMs: number,
): LeaseDecision {
  const nowISO = new Date(now).toISOString();
  const leaseDurationSeconds = Math.ceil(leaseDurationMs / 1000);
  if (current === undefined) {
    return {
      action: "create",
      record: {
        holderIdentity: identity,
        leaseDurationSeconds,
        acquireTime: nowISO,
        renewTime: nowISO,
        leaseTransitions: 0,
      },
    };
  }
  const holder = current.holderIdentity ?? "";
  const held = holder !== "" && holder !== identity;
  if (held) {
    const duration = (current.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    const seenAt = observation && sameRecord(observation.record, current) ? observation.seenAt : now;
    if (seenAt + duration > now) return { action: "wait", holder };
  }
  const renewing = holder === identity;
  return {
    action: "update",
    record: {
      holderIdentity: identity,
      leaseDurationSeconds,
      acquireTime: renewing ? (current.acquireTime ?? nowISO) : nowISO,
      renewTime: nowISO,
      leaseTransitions: (current.leaseTransitions ?? 0) + (renewing ? 0 : 1),
    },
  };
}

export function sameRecord(a: LeaseRecord, b: LeaseRecord): boolean {
  return (
    a.holderIdentity === b.holderIdentity &&
    a.renewTime === b.renewTime &&
    a.leaseTransitions === b.leaseTransitions
  );
}

export interface LeaderElectorOptions {
  store: LeaseStore;
  identity: string;
  clock?: Clock;
  log?: Logger;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

export class LeaderElector {
  readonly #o: Required<Omit<LeaderElectorOptions, "log">> & { log?: Logger };
  #observation: Observation | undefined;
  #version: string | undefined;
  #leader = false;
  #lastRenew = 0;
  #running = false;
  #tick: Timer | undefined;
  #deadline: Timer | undefined;
  #inFlight: Promise<void> | undefined;

  constructor(options: LeaderElectorOptions) {
    this.#o = {
      clock: systemClock,
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      ...options,
    };
    if (this.#o.renewDeadlineMs >= this.#o.leaseDurationMs) {
      throw new Error("leader election: renewDeadline must be shorter than leaseDuration");
    }
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  /** Stops campaigning; a leader stops acting and releases the lease so another replica takes over at once. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#tick?.cancel();
    await this.#inFlight;
    if (!this.#leader) return;
    this.#lose("shutdown");
    if (this.#version === undefined || this.#observation === undefined) return;
    const released: LeaseRecord = {
      ...this.#observation.record,
      holderIdentity: "",
      leaseDurationSeconds: 1,
      renewTime: new Date(this.#o.clock.now()).toISOString(),
    };
    try {
      await this.#o.store.update(released, this.#version);
      this.#o.log?.info({ identity: this.#o.identity }, "released leader lease");
    } catch (err) {
      this.#o.log?.warn({ err: String(err) }, "could not release leader lease; it will expire");
    }
  }

  /** One acquire-or-renew round; exposed for tests. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { store, identity, clock, leaseDurationMs } = this.#o;
    try {
      const stored = await store.get();
      const now = clock.now();
      if (stored && !(this.#observation && sameRecord(this.#observation.record, stored.record))) {
        this.#observation = { record: stored.record, seenAt: now };
      }
      const decision = decideLease(stored?.record, this.#observation, identity, now, leaseDurationMs);
      if (decision.action === "wait") return false;
      const written =
        decision.action === "create"
          ? await store.create(decision.record)
          : await store.update(decision.record, stored!.version);
      this.#observation = { record: written.record, seenAt: clock.now() };
      this.#version = written.version;
      return true;
    } catch (err) {
      this.#o.log?.debug({ err: String(err) }, "lease acquire/renew failed");
      return false;
    }
  }

  #schedule(ms: number): void {
    if (!this.#running) return;
    this.#tick = this.#o.clock.after(ms, () => {
      this.#inFlight = this.#round().finally(() => {
        this.#inFlight = undefined;
      });
    });
  }

  async #round(): Promise<void> {
    const ok = await this.tryAcquireOrRenew();
    if (!this.#running) return;
    const now = this.#o.clock.now();
    if (ok) {
      this.#lastRenew = now;
      this.#armDeadline();
      if (!this.#leader) {
        this.#leader = true;
        this.#o.log?.info({ identity: this.#o.identity }, "became leader");
        this.#o.onStartedLeading();
      }
    } else if (this.#leader && now - this.#lastRenew >= this.#o.renewDeadlineMs) {
      this.#lose("renew deadline passed");
    }
    // Jitter keeps candidates from retrying in lockstep.
    const period = this.#leader ? this.#o.retryPeriodMs : this.#o.retryPeriodMs * (1 + Math.random() * 0.2);
    this.#schedule(period);
  }

  // A renew call that hangs must not keep us acting past the deadline: a timer cuts leadership off.
  #armDeadline(): void {
    this.#deadline?.cancel();
    this.#deadline = this.#o.clock.after(this.#o.renewDeadlineMs, () => {
      if (this.#leader && this.#o.clock.now() - this.#lastRenew >= this.#o.renewDeadlineMs) {
        this.#lose("renew deadline passed");
      }
    });
  }

  #lose(why: string): void {
    if (!this.#leader) return;
    this.#leader = false;
    this.#deadline?.cancel();
    this.#o.log?.warn({ identity: this.#o.identity, why }, "stopped leading");
    this.#o.onStoppedLeading();
  }
}
