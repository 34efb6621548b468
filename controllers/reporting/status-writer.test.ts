// The announcer's conditional writes: a conflict is retried from a fresh read, and one that never ends
// is thrown (the caller logs it) rather than dropped in silence.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { KubeApiError } from "../../lib/kube.ts";
import { silentLogger } from "../../lib/log.ts";
import { FakeClock } from "../../lib/runtime/clock.ts";
import { makeRepository } from "../../test/fixtures/reporting.ts";
import type { ReportingApi } from "./kube.ts";
import { StatusWriter } from "./status-writer.ts";

const conflict = () =>
  new KubeApiError(409, { kind: "Status", reason: "Conflict", code: 409 }, "PATCH repositories/api/status");

function api(conflicts: number): { api: ReportingApi; reads: () => number; patches: object[] } {
  let reads = 0;
  const patches: object[] = [];
  const fake = {
    async getRepository() {
      reads++;
      return makeRepository({ chats: ["-100"], when: ["failure"] });
    },
    async patchRepositoryStatus(_namespace: string, _name: string, patch: object) {
      if (patches.length < conflicts) {
        patches.push(patch);
        throw conflict();
      }
      patches.push(patch);
      return makeRepository();
    },
  } as unknown as ReportingApi;
  return { api: fake, reads: () => reads, patches };
}

describe("StatusWriter.setBlocked", () => {
  const blocked = { reason: "Forbidden", message: "bot was kicked" };

  test("a conflict is retried from a fresh read", async () => {
    const fake = api(2);
    await new StatusWriter(fake.api, new FakeClock(0), silentLogger()).setBlocked(
      "default",
      "api",
      "-100",
      blocked,
    );
    assert.equal(fake.patches.length, 3);
    assert.equal(fake.reads(), 3);
  });

  test("endless conflicts are thrown, not dropped", async () => {
    const fake = api(Number.POSITIVE_INFINITY);
    const writer = new StatusWriter(fake.api, new FakeClock(0), silentLogger());
    await assert.rejects(writer.setBlocked("default", "api", "-100", blocked), /409 Conflict/);
    assert.ok(fake.patches.length > 1, "retried before giving up");
  });
});
