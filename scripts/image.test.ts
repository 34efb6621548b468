// The image's inputs: what the build context holds (no test code), and the Debian mirror of the stand-in base.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { debianMirror } from "./base-image.ts";
import { contextFiles, inputsDigest, ROOT } from "./image-inputs.ts";

const dockerignore = readFileSync(join(ROOT, ".dockerignore"), "utf8");

test("the build context holds the product folders and the lock file, never tests, fakes or tools", () => {
  const all = [
    "package.json",
    "package-lock.json",
    "README.md",
    "api/build.ts",
    "api/crds.test.ts",
    "agent/runner.sh",
    "test/agent/pod-harness.ts",
    "controllers/build/build-pod.test.ts.snapshot",
    "test/fixtures/reporting.ts",
    "test/fixtures/build.ts",
    "test/fakes/memory-api.ts",
    "bin/kiln.ts",
    "stand-ins/apiserver/server.ts",
    "bench/controller.ts",
    "scripts/image.ts",
    "manifests/kustomization.yaml",
    "webhook/create-app.ts",
    "lib/kube.ts",
  ];
  assert.deepEqual(contextFiles(all, dockerignore), [
    "agent/runner.sh",
    "api/build.ts",
    "bin/kiln.ts",
    "lib/kube.ts",
    "package-lock.json",
    "package.json",
    "webhook/create-app.ts",
  ]);
});

test("the inputs digest changes with a context file, not with a file outside the context", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "kiln-image-inputs-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (file: string, text: string) => {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  };
  write("Dockerfile", "FROM x\n");
  write(".dockerignore", dockerignore);
  write("package.json", "{}");
  write("api/build.ts", "export {};\n");
  write("stand-ins/apiserver/server.ts", "export {};\n");
  const digest = inputsDigest(dir);
  assert.match(digest, /^[0-9a-f]{64}$/);
  write("stand-ins/apiserver/server.ts", "export const changed = 1;\n");
  assert.equal(inputsDigest(dir), digest, "test code is not an input");
  write("api/build.ts", "export const changed = 1;\n");
  const changed = inputsDigest(dir);
  assert.notEqual(changed, digest, "a source file is");
  write("Dockerfile", "FROM y\n");
  assert.notEqual(inputsDigest(dir), changed, "the Dockerfile is");
});

test("the stand-in base uses the machine's Debian mirror (deb822 and one-line sources)", () => {
  const deb822 = "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n";
  const security = "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n";
  assert.equal(debianMirror([security, deb822]), "http://mirror.example/debian");
  assert.equal(
    debianMirror(["deb [arch=amd64] http://old.example/debian bookworm main\n"]),
    "http://old.example/debian",
  );
  assert.equal(
    debianMirror(["deb https://packages.cloud.google.com/apt cloud-sdk main\n"]),
    "http://deb.debian.org/debian",
  );
});
