// Kiln's own CLI is part of every container's "image" in the process kubelet, wherever the checkout
// lives: a checkout under /tmp (a CI clone) must not vanish behind a container's fresh /tmp.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { kilnImageDirs } from "./pod-worker.ts";
import { bwrapArgs } from "./sandbox.ts";

const scratch = mkdtempSync("/tmp/kiln-image-test-");
after(() => rmSync(scratch, { recursive: true, force: true }));
const checkout = join(scratch, "clone", "main");
/** A container with a checkout under /tmp bound at the same path (as kilnImageDirs asks). */
const checkoutSpec = {
  command: ["true"],
  mounts: [{ containerPath: checkout, hostPath: checkout, readOnly: true }],
  workingDir: "/",
  hostname: "pod",
  statusFd: 3,
};

test("a checkout under /tmp or /root is bound into containers; one elsewhere is already visible", () => {
  const node = "/bin/sh"; // any binary outside /tmp: only the checkout is in question here
  assert.deepEqual(kilnImageDirs({ node, script: "/tmp/ci/main/bin/kiln.ts" }), ["/tmp/ci/main"]);
  assert.deepEqual(kilnImageDirs({ node, script: "/root/src/kiln/bin/kiln.ts" }), ["/root/src/kiln"]);
  assert.deepEqual(kilnImageDirs({ node, script: "/work/main/bin/kiln.ts" }), []);
});

test("parents of a mount under the fresh /tmp are made traversable (0755), not bwrap's 0700", () => {
  const args = bwrapArgs(checkoutSpec);
  const text = args.join(" ");
  for (const parent of [scratch, join(scratch, "clone")]) {
    assert.match(text, new RegExp(`--perms 0755 --dir ${parent}(\\s|$)`), `${parent} in ${text}`);
  }
  assert.ok(text.indexOf("--tmpfs /tmp") < text.indexOf(`--dir ${scratch}`), "after the fresh /tmp");
  assert.match(text, new RegExp(`--ro-bind ${checkout} ${checkout}`));
});

test("with a read-only root, /tmp is made read-only after what is mounted inside it", () => {
  const args = bwrapArgs({ ...checkoutSpec, readOnlyRoot: true }).join(" ");
  assert.ok(args.indexOf("--remount-ro /tmp") > args.indexOf(`--ro-bind ${checkout}`), args);
  assert.ok(args.indexOf("--remount-ro /tmp") > args.indexOf(`--dir ${scratch}`), args);
});
