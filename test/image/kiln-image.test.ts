// Kiln's own image as a cluster runs it: `localhost/kiln:dev` (built by `npm run image` from the
// Dockerfile) on the process kubelet in image mode, as the non-root user 10001 with Kiln's security
// context. `kiln` is on PATH; `kiln fetch --help` and `kiln agent --help` run; the sandbox is not offered.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { CoreV1Api, type V1Pod } from "@kubernetes/client-node";
import { KILN_IMAGE, requireKilnImage } from "../../scripts/image-inputs.ts";
import { startTestCluster, type TestCluster } from "../../stand-ins/cluster/start.ts";
import { waitFor } from "../wait-for.ts";

let cluster: TestCluster;
let core: CoreV1Api;

before(async () => {
  requireKilnImage();
  cluster = await startTestCluster({ kubelet: true, applyCRDs: false });
  core = cluster.kubeConfig.makeApiClient(CoreV1Api);
});
after(() => cluster?.stop());

const kiln = (name: string, args: string[]) => ({
  name,
  image: KILN_IMAGE,
  imagePullPolicy: "IfNotPresent",
  // `kiln` by name, resolved on the image's PATH as on a node.
  command: ["kiln"],
  args,
  securityContext: {
    runAsNonRoot: true,
    runAsUser: 10001,
    runAsGroup: 10001,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
  },
});

test("in the image, as uid 10001: kiln fetch --help, kiln agent --help, and a help without the sandbox", async () => {
  const pod: V1Pod = {
    metadata: { name: "kiln-image" },
    spec: {
      restartPolicy: "Never",
      securityContext: { seccompProfile: { type: "RuntimeDefault" } },
      initContainers: [kiln("fetch-help", ["fetch", "--help"]), kiln("agent-help", ["agent", "--help"])],
      containers: [
        {
          ...kiln("help", ["--help"]),
          command: ["sh", "-c", 'id -u; command -v kiln; exec kiln "$@"', "sh"],
        },
      ],
    },
  };
  await core.createNamespacedPod({ namespace: "default", body: pod });
  const done = await waitFor(
    "the pod to finish",
    async () => {
      const p = await core.readNamespacedPod({ name: "kiln-image", namespace: "default" });
      return p.status?.phase === "Succeeded" || p.status?.phase === "Failed" ? p : undefined;
    },
    60_000,
  );
  const log = (container: string) =>
    core.readNamespacedPodLog({ name: "kiln-image", namespace: "default", container });
  assert.equal(
    done.status?.phase,
    "Succeeded",
    JSON.stringify(done.status?.containerStatuses ?? done.status),
  );
  assert.match(await log("fetch-help"), /^Usage: kiln fetch --url <clone URL> --sha <commit>/);
  assert.match(await log("agent-help"), /^Usage: kiln agent/);
  const help = await log("help");
  assert.match(help, /^10001\n\/usr\/local\/bin\/kiln\n/);
  assert.match(help, /kiln controller/);
  assert.doesNotMatch(help, /kiln sandbox/, "the image carries no sandbox, and does not offer it");
});
