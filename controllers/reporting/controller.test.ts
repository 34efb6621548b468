// Which Repository changes wake the announcer's Builds.
import assert from "node:assert/strict";
import { test } from "node:test";
import { makeRepository } from "../../test/fixtures/reporting.ts";
import { announcerSees } from "./controller.ts";

test("a Repository wakes the announcer when new, on a spec edit or a blocked-chat change, not on the repository controller's status", () => {
  const before = makeRepository({ chats: ["-100"], when: ["failure"] });
  const withStatus = (status: object) => ({ ...before, status: { ...before.status, ...status } });
  assert.equal(announcerSees(before, undefined), true, "new (or deleted, or resynced)");
  assert.equal(
    announcerSees({ ...before, metadata: { ...before.metadata, generation: 2 } }, before),
    true,
    "spec edited",
  );
  const blocked = makeRepository(
    { chats: ["-100"], when: ["failure"] },
    {
      blocked: [{ chat: "-100", reason: "Forbidden", generation: 1 }],
    },
  );
  assert.equal(announcerSees(blocked, before), true, "a chat blocked");
  assert.equal(announcerSees(before, blocked), true, "a chat unblocked");
  assert.equal(
    announcerSees(withStatus({ lastBuild: "api-2", hookID: 7 }), before),
    false,
    "lastBuild, hookID",
  );
  assert.equal(
    announcerSees(
      withStatus({
        conditions: [{ type: "WebhookReady", status: "True", reason: "Registered", message: "" }],
      }),
      before,
    ),
    false,
    "conditions",
  );
});
