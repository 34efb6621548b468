// Image mode through the kubelet: a container whose image is in local storage runs in that image's
// root, with its config applied as on a containerd node — against a tiny busybox image built here
// (test-image.ts). Every wait has a timeout.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { text } from "node:stream/consumers";
import { after, before, describe, test } from "node:test";
import { CoreV1Api, type V1Pod } from "@kubernetes/client-node";
import { silentLogger } from "../../lib/log.ts";
import { waitFor } from "../../test/wait-for.ts";
import { startTestCluster, type TestCluster } from "../cluster/start.ts";
import { type Kubelet, startKubelet } from "./kubelet.ts";
import { ensureTestImage } from "./test-image.ts";

const KUBECTL = path.resolve(import.meta.dirname, "../../.tools/bin/kubectl");
let cluster: TestCluster;
let kubelet: Kubelet;
let core: CoreV1Api;
let image: string;
const ns = "default";

before(async () => {
  image = ensureTestImage();
  cluster = await startTestCluster({ applyCRDs: false });
  kubelet = await startKubelet({
    kubeConfig: cluster.kubeConfig,
    setPodLogSource: (source) => cluster.server.setPodLogSource(source),
    setPodExecHandler: (handler) => cluster.server.setPodExecHandler(handler),
    log: silentLogger(),
    backoff: { initialMs: 100, maxMs: 400 },
    retryMs: 200,
  });
  core = cluster.kubeConfig.makeApiClient(CoreV1Api);
});

after(async () => {
  await kubelet?.stop();
  await cluster?.stop();
});

const read = (name: string) => core.readNamespacedPod({ name, namespace: ns });
const logOf = async (name: string, container: string) =>
  String(await core.readNamespacedPodLog({ name, namespace: ns, container }));
const events = async (name: string) =>
  (await core.listNamespacedEvent({ namespace: ns })).items.filter((e) => e.involvedObject.name === name);

async function phase(name: string, ...phases: string[]): Promise<V1Pod> {
  let last: V1Pod | undefined;
  try {
    return await waitFor(`pod ${name} in ${phases.join("/")}`, async () => {
      last = await read(name);
      return phases.includes(last.status?.phase ?? "") ? last : undefined;
    });
  } catch (error) {
    throw new Error(`${(error as Error).message}; last status: ${JSON.stringify(last?.status)}`);
  }
}

function pod(name: string, spec: Partial<NonNullable<V1Pod["spec"]>>): V1Pod {
  return {
    metadata: { name },
    spec: { restartPolicy: "Never", automountServiceAccountToken: false, containers: [], ...spec },
  };
}
const create = (p: V1Pod) => core.createNamespacedPod({ namespace: ns, body: p });

describe("image mode", { timeout: 120_000 }, () => {
  test("the image's Entrypoint and Cmd run when the container names neither; kube's Pulled event", async () => {
    await create(pod("defaults", { containers: [{ name: "main", image }] }));
    await phase("defaults", "Succeeded");
    assert.equal(await logOf("defaults", "main"), "entry: echo from-cmd\nfrom-cmd\n");
    const pulled = (await events("defaults")).find((e) => e.reason === "Pulled");
    assert.equal(pulled?.message, `Container image "${image}" already present on machine`);
    assert.equal(pulled?.involvedObject.fieldPath, "spec.containers{main}");
  });

  test("the image's root is /, with its Env, WorkingDir and User; nothing of the host", async () => {
    const script = [
      "cat /only-in-image",
      `ls ${kubelet.dataDir} /work /usr/bin 2>&1 | wc -l`,
      "id -u; id -g; id -G",
      "pwd; echo $HOME; echo $IMAGE_VAR $MINE; echo $PATH",
      "cat /etc/hostname",
    ].join("; ");
    await create(
      pod("root", {
        containers: [
          { name: "main", image, command: ["sh", "-c", script], env: [{ name: "MINE", value: "mine" }] },
        ],
      }),
    );
    await phase("root", "Succeeded");
    assert.equal(
      await logOf("root", "main"),
      [
        "image content",
        "3", // three "No such file or directory": neither the kubelet's data dir nor the host's tree
        "1000",
        "1000",
        "1000 50", // user app from the image's passwd, member of staff in its group file
        "/home/app",
        "/home/app",
        "from-image mine",
        "/usr/local/bin:/bin",
        "root",
        "",
      ].join("\n"),
    );
  });

  test("a writable root layer per container and per run; a read-only root refuses writes", async () => {
    await create(
      pod("layers", {
        restartPolicy: "OnFailure",
        containers: [
          {
            name: "writer",
            image,
            // First run: writes into the root and fails; the restart must not see what it wrote.
            command: [
              "sh",
              "-c",
              "if [ -e /etc/written ]; then echo seen; exit 2; fi; echo x > /etc/written && cat /etc/written; [ -e /kiln/once ] && exit 0; touch /kiln/once; exit 1",
            ],
            volumeMounts: [{ name: "shared", mountPath: "/kiln" }],
            securityContext: { runAsUser: 0 },
          },
          {
            name: "other",
            image,
            command: [
              "sh",
              "-c",
              "sleep 0.5; [ -e /etc/written ] && echo shared || echo own-layer; touch /home/app/mine && echo home-writable",
            ],
          },
          {
            name: "read-only",
            image,
            command: [
              "sh",
              "-c",
              "touch /x 2>/dev/null || echo root-ro; touch /tmp/x 2>/dev/null || echo tmp-ro; touch /w/x && echo volume-rw",
            ],
            securityContext: { readOnlyRootFilesystem: true, runAsUser: 0 },
            volumeMounts: [{ name: "shared", mountPath: "/w" }],
          },
        ],
        volumes: [{ name: "shared", emptyDir: {} }],
      }),
    );
    const p = await phase("layers", "Succeeded");
    const writer = p.status!.containerStatuses!.find((s) => s.name === "writer")!;
    assert.equal(writer.restartCount, 1);
    assert.equal(await logOf("layers", "writer"), "x\n");
    assert.equal(await logOf("layers", "other"), "own-layer\nhome-writable\n");
    // The layers went with their containers, and no mount of them is left on the host.
    const containers = path.join(kubelet.dataDir, "pods", p.metadata!.uid!, "containers");
    await waitFor("layers removed", async () =>
      fs.readdirSync(containers).every((c) => !fs.existsSync(path.join(containers, c, "layer"))),
    );
    assert.ok(
      !fs.readFileSync("/proc/mounts", "utf8").includes(kubelet.dataDir),
      "nothing mounted on the host",
    );
    assert.equal(await logOf("layers", "read-only"), "root-ro\ntmp-ro\nvolume-rw\n");
  });

  test("kubectl exec and exec probes run in the container's root, as its user, with its env", async () => {
    await create(
      pod("exec", {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: "main",
            image,
            command: ["sh", "-c", "echo inside > /tmp/mark; exec sleep 60"],
            env: [{ name: "WHO", value: "main-env" }],
            readinessProbe: { exec: { command: ["cat", "/tmp/mark"] }, periodSeconds: 1 },
          },
        ],
      }),
    );
    await waitFor(
      "ready through an exec probe",
      async () => (await read("exec")).status?.containerStatuses?.[0]?.ready,
    );
    const child = spawn(
      KUBECTL,
      [
        "exec",
        "exec",
        "--",
        "sh",
        "-c",
        "cat /only-in-image /tmp/mark; echo $WHO $IMAGE_VAR; id -u; id -G; pwd",
      ],
      {
        env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath, HOME: process.env.HOME ?? "/tmp" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const [out, err, code] = await Promise.all([
      text(child.stdout),
      text(child.stderr),
      new Promise((r) => child.on("close", r)),
    ]);
    assert.equal(code, 0, err);
    assert.equal(out, "image content\ninside\nmain-env from-image\n1000\n1000 50\n/home/app\n");
    await core.deleteNamespacedPod({ name: "exec", namespace: ns });
  });

  test("a command not on the image's PATH: StartError 128 with containerd's message and a Failed event", async () => {
    await create(
      pod("no-kiln", { containers: [{ name: "main", image, command: ["kiln"], args: ["agent"] }] }),
    );
    const p = await phase("no-kiln", "Failed");
    const t = p.status!.containerStatuses![0]!.state!.terminated!;
    const message =
      "failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: " +
      'unable to start container process: error during container init: exec: "kiln": executable file not found in $PATH: unknown';
    assert.deepEqual(
      {
        reason: t.reason,
        exitCode: t.exitCode,
        message: t.message,
        startedAt: new Date(t.startedAt!).getTime(),
      },
      { reason: "StartError", exitCode: 128, message, startedAt: 0 },
    );
    const list = await waitFor("the Failed event", async () => {
      const e = await events("no-kiln");
      return e.some((x) => x.reason === "Failed") ? e : undefined;
    });
    assert.deepEqual(
      list.filter((e) => e.reason === "Failed").map((e) => [e.type, e.message]),
      [["Warning", `Error: ${message}`]],
    );
    assert.ok(
      list.some((e) => e.reason === "Created"),
      "created before it failed to start, as on a node",
    );
  });

  test("runAsNonRoot checks the image's user; a named one cannot be verified", async () => {
    await create(
      pod("non-root", {
        securityContext: { runAsNonRoot: true },
        containers: [
          { name: "named", image, command: ["true"] },
          { name: "numeric", image, command: ["id", "-u"], securityContext: { runAsUser: 1000 } },
        ],
      }),
    );
    await waitFor("the named user refused, the numeric one run", async () => {
      const statuses = (await read("non-root")).status?.containerStatuses ?? [];
      const named = statuses.find((s) => s.name === "named")?.state?.waiting;
      const numeric = statuses.find((s) => s.name === "numeric")?.state?.terminated;
      return (
        named?.reason === "CreateContainerConfigError" &&
        /^container has runAsNonRoot and image has non-numeric user \(app\), cannot verify user is non-root/.test(
          named.message ?? "",
        ) &&
        numeric?.exitCode === 0
      );
    });
    assert.equal(await logOf("non-root", "numeric"), "1000\n");
  });

  test("pull policies: Always tries a registry and fails; Never with an image that is not here", async () => {
    await create(
      pod("policies", {
        containers: [
          { name: "always", image, imagePullPolicy: "Always", command: ["true"] },
          { name: "never", image: "alpine:3", imagePullPolicy: "Never", command: ["true"] },
        ],
      }),
    );
    await waitFor("ErrImagePull and ErrImageNeverPull", async () => {
      const statuses = (await read("policies")).status?.containerStatuses ?? [];
      const reason = (n: string) => statuses.find((s) => s.name === n)?.state?.waiting?.reason;
      return (
        /ErrImagePull|ImagePullBackOff/.test(reason("always") ?? "") &&
        reason("never") === "ErrImageNeverPull"
      );
    });
    const never = (await read("policies")).status!.containerStatuses!.find((s) => s.name === "never")!;
    assert.equal(
      never.state!.waiting!.message,
      'Container image "alpine:3" is not present with pull policy of Never',
    );
    await core.deleteNamespacedPod({ name: "policies", namespace: ns, gracePeriodSeconds: 0 });
  });
});
