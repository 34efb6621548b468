import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { chooseEngine, onPath } from "./engine.ts";

const having =
  (...commands: string[]) =>
  (c: string) =>
    commands.includes(c);
const BWRAP_TOOLS = ["bwrap", "podman", "unshare", "nsenter", "cc"];

describe("chooseEngine", () => {
  const cases: Array<[string, string | undefined, string[], boolean, ReturnType<typeof chooseEngine>]> = [
    ["docker first", undefined, ["docker", "podman"], false, { ok: true, engine: "docker" }],
    ["podman without docker", undefined, ["podman", "bwrap"], false, { ok: true, engine: "podman" }],
    ["asked for podman", "podman", ["docker", "podman"], false, { ok: true, engine: "podman" }],
    ["asked for bwrap, as root, with its tools", "bwrap", BWRAP_TOOLS, true, { ok: true, engine: "bwrap" }],
    [
      "neither docker nor podman: says so, and what else there is",
      undefined,
      ["bwrap"],
      true,
      {
        ok: false,
        message:
          "--image needs docker or podman on PATH, and neither is here (or --engine bwrap: images of this " +
          "machine's container storage with bubblewrap, as root); without --image the steps run in your shell",
      },
    ],
    [
      "an engine that is not there",
      "docker",
      ["podman"],
      false,
      { ok: false, message: "--engine docker: docker is not on PATH" },
    ],
    [
      "an engine Kiln does not know",
      "lxc",
      ["lxc"],
      false,
      { ok: false, message: '--engine must be one of docker, podman, bwrap, not "lxc"' },
    ],
    [
      "bwrap without its tools names them and their packages",
      "bwrap",
      ["bwrap", "nsenter"],
      true,
      {
        ok: false,
        message:
          "--engine bwrap needs podman, unshare, cc on PATH (apt-get install podman util-linux gcc libc6-dev)",
      },
    ],
    [
      "bwrap but not root",
      "bwrap",
      BWRAP_TOOLS,
      false,
      {
        ok: false,
        message:
          "--engine bwrap runs as root (it mounts the image as the process kubelet does); use docker or podman",
      },
    ],
  ];
  for (const [name, requested, tools, root, expected] of cases) {
    test(name, () => assert.deepEqual(chooseEngine(requested, having(...tools), root), expected));
  }
});

describe("onPath", () => {
  const dir = mkdtempSync(join(tmpdir(), "kiln-path-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "tool"), "#!/bin/sh\n");
  chmodSync(join(dir, "tool"), 0o755);
  writeFileSync(join(dir, "plain"), "");
  test("an executable in a PATH directory; not a plain file, not elsewhere", () => {
    assert.equal(onPath("tool", `/nonexistent:${dir}`), true);
    assert.equal(onPath("plain", dir), false);
    assert.equal(onPath("tool", "/nonexistent"), false);
    assert.equal(onPath("tool", ""), false);
  });
});
