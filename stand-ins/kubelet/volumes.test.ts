// Secret volumes as the kubelet writes them: items by key to path, optional sources skipped when their
// Secret or key is missing, and the kubelet's own error when a required one is.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import type { V1Pod, V1Volume } from "@kubernetes/client-node";
import { type ObjectBytes, prepareVolumes, VolumeError, type VolumeInputs } from "./volumes.ts";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-volumes-"));
after(() => fs.rmSync(root, { recursive: true, force: true }));

const secrets = new Map<string, ObjectBytes>([
  ["npm", { token: Buffer.from("t0ken"), user: Buffer.from("me") }],
]);
const inputs: VolumeInputs = {
  secrets,
  configMaps: new Map(),
  env: { podIP: "127.0.0.1", hostIP: "127.0.0.1", nodeName: "n", allocatable: {} },
  token: async () => "sa-token",
};
const podWith = (volume: V1Volume): V1Pod => ({
  metadata: { name: "p" },
  spec: { containers: [], volumes: [volume] },
});

describe("secret volumes", () => {
  test("a projected volume of optional secret sources: present keys by path, missing ones left out", async () => {
    const volumes = await prepareVolumes(
      podWith({
        name: "secrets",
        projected: {
          defaultMode: 0o440,
          sources: [
            {
              secret: {
                name: "npm",
                items: [
                  { key: "token", path: "NPM_TOKEN" },
                  { key: "nope", path: "NOPE" },
                ],
                optional: true,
              },
            },
            { secret: { name: "gone", items: [{ key: "k", path: "GONE" }], optional: true } },
          ],
        },
      }),
      path.join(root, "a"),
      inputs,
    );
    const dir = volumes.get("secrets")!.hostPath;
    assert.deepEqual(fs.readdirSync(dir).sort(), ["NPM_TOKEN"]);
    assert.equal(fs.readFileSync(path.join(dir, "NPM_TOKEN"), "utf8"), "t0ken");
    assert.equal(fs.statSync(path.join(dir, "NPM_TOKEN")).mode & 0o777, 0o440);
    assert.equal(volumes.get("secrets")!.readOnly, true);
  });

  test("a required Secret or key that is missing: the kubelet's words, and the pod waits", async () => {
    const cases: [V1Volume, string][] = [
      [{ name: "s", secret: { secretName: "gone" } }, 'secret "gone" not found'],
      [
        { name: "s", secret: { secretName: "npm", items: [{ key: "nope", path: "x" }] } },
        "references non-existent secret key: nope",
      ],
      [
        {
          name: "s",
          projected: { sources: [{ secret: { name: "npm", items: [{ key: "nope", path: "x" }] } }] },
        },
        "references non-existent secret key: nope",
      ],
    ];
    for (const [i, [volume, message]] of cases.entries()) {
      await assert.rejects(prepareVolumes(podWith(volume), path.join(root, `b${i}`), inputs), (e) => {
        assert.ok(e instanceof VolumeError);
        assert.equal(e.message, message);
        return true;
      });
    }
  });
});
