import assert from "node:assert/strict";
import { test } from "node:test";
import { normalizeImage, registryHost } from "../../lib/container/image-ref.ts";
import { decideImage, pullPolicy } from "./images.ts";

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

test("references are named as CRI and containers-storage name them", () => {
  const id = "0b2b78cddfcf9bb5c9e0e11bb422e72136992bd13898793708d0fdcf7d46407e";
  const cases: [string, string][] = [
    ["alpine:3", "docker.io/library/alpine:3"],
    ["kiln", "docker.io/library/kiln:latest"],
    ["kiln:dev", "docker.io/library/kiln:dev"],
    ["bitnami/redis", "docker.io/bitnami/redis:latest"],
    ["index.docker.io/library/node:24", "docker.io/library/node:24"],
    ["localhost/kiln:dev", "localhost/kiln:dev"],
    ["localhost:5000/team/app", "localhost:5000/team/app:latest"],
    ["ghcr.io/kiln-ci/kiln:0.1.0", "ghcr.io/kiln-ci/kiln:0.1.0"],
    [`alpine@sha256:${id}`, `docker.io/library/alpine@sha256:${id}`],
    [`sha256:${id}`, id],
    [id, id],
  ];
  for (const [image, full] of cases) assert.equal(normalizeImage(image), full, image);
});

test("pull policy: as given, else the API server's default", () => {
  assert.equal(pullPolicy("kiln", undefined), "Always");
  assert.equal(pullPolicy("kiln:latest", undefined), "Always");
  assert.equal(pullPolicy("localhost:5000/kiln", undefined), "Always");
  assert.equal(pullPolicy("kiln:dev", undefined), "IfNotPresent");
  assert.equal(pullPolicy("kiln", "Never"), "Never");
});

test("the image manager's decision: local image, host mirror, or a pull that fails", () => {
  const local = decideImage("localhost/kiln:dev", "IfNotPresent", true);
  assert.deepEqual(local, {
    mode: "image",
    event: 'Container image "localhost/kiln:dev" already present on machine',
  });
  assert.equal(decideImage("localhost/kiln:dev", "Never", true).mode, "image");
  const mirror = decideImage("alpine:3", "IfNotPresent", false);
  assert.equal(mirror.mode, "host");
  assert.match(
    mirror.event,
    /"alpine:3" is not in this node's local container storage: the host's filesystem stands in/,
  );
  assert.equal(decideImage("kiln", "Always", false).mode, "host");
  // Always means a pull, and no registry answers here: a local image does not save it.
  const always = decideImage("localhost/kiln:dev", "Always", true);
  assert.equal(always.mode === "error" && always.reason, "ErrImagePull");
  assert.match(
    always.mode === "error" ? always.message : "",
    /^failed to pull and unpack image "localhost\/kiln:dev": .*Head "https:\/\/localhost\/v2\/kiln\/manifests\/dev": dial tcp 127\.0\.0\.1:443: connect: connection refused$/,
  );
  const hub = decideImage("busybox", "Always", true);
  assert.match(
    hub.mode === "error" ? hub.message : "",
    /registry-1\.docker\.io\/v2\/library\/busybox\/manifests\/latest/,
  );
  assert.deepEqual(decideImage("alpine:3", "Never", false), {
    mode: "error",
    reason: "ErrImageNeverPull",
    message: 'Container image "alpine:3" is not present with pull policy of Never',
    event: 'Container image "alpine:3" is not present with pull policy of Never',
  });
  const invalid = decideImage("registry.invalid/nope:1", "IfNotPresent", false);
  assert.equal(invalid.mode === "error" && invalid.reason, "ErrImagePull");
  assert.match(
    invalid.event,
    /^Failed to pull image "registry.invalid\/nope:1": .*lookup registry.invalid: no such host/,
  );
});
