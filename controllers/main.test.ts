import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeClient } from "../lib/kube.ts";
import { ownImage } from "./main.ts";

test("the controller's own image comes from its pod (the downward API names it), undefined outside a pod", async () => {
  const asked: string[] = [];
  const client = {
    get: async (path: string) => {
      asked.push(path);
      return {
        spec: {
          containers: [
            { name: "sidecar", image: "proxy:1" },
            { name: "controller", image: "registry.example.com/kiln:0.2.0", args: ["controller"] },
          ],
        },
      };
    },
  } as unknown as KubeClient;
  assert.equal(
    await ownImage(client, { KILN_NAMESPACE: "kiln", KILN_POD_NAME: "kiln-controller-abc" }),
    "registry.example.com/kiln:0.2.0",
  );
  assert.deepEqual(asked, ["/api/v1/namespaces/kiln/pods/kiln-controller-abc"]);
  assert.equal(await ownImage(client, {}), undefined);
  assert.equal(asked.length, 1, "no API call outside a pod");
});
