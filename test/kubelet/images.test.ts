import assert from "node:assert/strict";
import { test } from "node:test";
import { pullImage, registryHost } from "./images.ts";

test("registryHost follows docker's reference rules", () => {
  const cases: [string, string | undefined][] = [
    ["busybox", undefined],
    ["library/busybox:1", undefined],
    ["ghcr.io/kiln-ci/kiln:0.1.0", "ghcr.io"],
    ["localhost/x", "localhost"],
    ["registry.invalid:5000/a/b", "registry.invalid"],
  ];
  for (const [image, host] of cases) assert.equal(registryHost(image), host, image);
});

test("only images from .invalid registries fail to pull", () => {
  assert.deepEqual(pullImage("node:24"), { ok: true });
  assert.deepEqual(pullImage("ghcr.io/kiln-ci/kiln:0.1.0"), { ok: true });
  assert.deepEqual(pullImage(undefined), { ok: true });
  const r = pullImage("registry.invalid/nope:1");
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.message : "", /lookup registry.invalid: no such host/);
});
