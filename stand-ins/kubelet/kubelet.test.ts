// The process kubelet against the test API server: pods really run, and what a kubelet reports
// comes back through the API (status, pods/log). Every wait has a timeout.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import { Writable } from "node:stream";
import { text } from "node:stream/consumers";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { CoreV1Api, Log, type V1Pod } from "@kubernetes/client-node";
import { cgroupsAvailable } from "../../lib/container/cgroup.ts";
import { silentLogger } from "../../lib/log.ts";
import { waitFor } from "../../test/wait-for.ts";
import { startTestCluster, type TestCluster } from "../cluster/start.ts";
import { type Kubelet, startKubelet } from "./kubelet.ts";
import { pidsWith } from "./pids.ts";

let cluster: TestCluster;
let kubelet: Kubelet;
let core: CoreV1Api;
const ns = "default";

before(async () => {
  cluster = await startTestCluster({ applyCRDs: false });
  kubelet = await startKubelet({
    kubeConfig: cluster.kubeConfig,
    setPodLogSource: (source) => cluster.server.setPodLogSource(source),
    log: silentLogger(),
    backoff: { initialMs: 100, maxMs: 400 },
    retryMs: 200,
    tokenRefreshMs: () => 700,
  });
  core = cluster.kubeConfig.makeApiClient(CoreV1Api);
});

after(async () => {
  await kubelet?.stop();
  await cluster?.stop();
});

const read = (name: string) => core.readNamespacedPod({ name, namespace: ns });

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

async function logOf(name: string, container: string, extra: Record<string, unknown> = {}): Promise<string> {
  return String(await core.readNamespacedPodLog({ name, namespace: ns, container, ...extra }));
}

function pod(
  name: string,
  spec: Partial<NonNullable<V1Pod["spec"]>>,
  labels?: Record<string, string>,
): V1Pod {
  return {
    metadata: { name, labels: labels ?? {} },
    spec: { restartPolicy: "Never", automountServiceAccountToken: false, containers: [], ...spec },
  };
}

const create = (p: V1Pod) => core.createNamespacedPod({ namespace: ns, body: p });

/** Waits until the pod is removed from the API (404). */
async function podGone(name: string): Promise<void> {
  await waitFor(`pod ${name} gone`, async () => {
    try {
      await read(name);
      return undefined;
    } catch (error) {
      return (error as { code?: number }).code === 404;
    }
  });
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

describe("process kubelet", { timeout: 120_000 }, () => {
  test("env from Secret, ConfigMap and fields, volumes, logs, exit codes and termination messages", async () => {
    await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: "creds" }, stringData: { password: "hunter2", "id.txt": "secret-file" } },
    });
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: "settings" }, data: { mode: "fast", "app.conf": "x=1\n" } },
    });
    await create(
      pod(
        "env-volumes",
        {
          initContainers: [
            {
              name: "prepare",
              image: "busybox",
              command: ["sh", "-c", "echo prepared > /workspace/state"],
              volumeMounts: [{ name: "ws", mountPath: "/workspace" }],
            },
          ],
          containers: [
            {
              name: "main",
              image: "busybox",
              workingDir: "/workspace",
              command: ["sh", "-c"],
              args: [
                [
                  "echo pw=$PASSWORD mode=$MODE pod=$POD_NAME ns=$POD_NS app=$APP ip=$POD_IP sa=$SA",
                  "echo greeting=$(GREETING) cfg_mode=$cfg_mode k8s=$KUBERNETES_SERVICE_HOST",
                  "cat state",
                  "cat /etc/creds/id.txt; echo",
                  "cat /config/app.conf",
                  "cat /podinfo/labels; echo",
                  "echo via-subpath > /sub/only; cat /workspace/nested/only",
                  "touch /etc/creds/x 2>/dev/null || echo secret-ro",
                  "touch /ro/x 2>/dev/null || echo ws-ro",
                  "echo 'custom message' > /dev/termination-log",
                  "echo to-stderr >&2",
                  "exit 4",
                ].join("; "),
              ],
              env: [
                { name: "PASSWORD", valueFrom: { secretKeyRef: { name: "creds", key: "password" } } },
                { name: "MODE", valueFrom: { configMapKeyRef: { name: "settings", key: "mode" } } },
                { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                { name: "POD_NS", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
                { name: "APP", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
                { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
                { name: "SA", valueFrom: { fieldRef: { fieldPath: "spec.serviceAccountName" } } },
                { name: "GREETING", value: "hi-$(POD_NAME)" },
              ],
              envFrom: [{ configMapRef: { name: "settings" }, prefix: "cfg_" }],
              volumeMounts: [
                { name: "ws", mountPath: "/workspace" },
                { name: "ws", mountPath: "/ro", readOnly: true },
                { name: "ws", mountPath: "/sub", subPath: "nested" },
                { name: "secret", mountPath: "/etc/creds" },
                { name: "config", mountPath: "/config" },
                { name: "podinfo", mountPath: "/podinfo" },
              ],
            },
          ],
          volumes: [
            { name: "ws", emptyDir: {} },
            { name: "secret", secret: { secretName: "creds" } },
            {
              name: "config",
              configMap: { name: "settings", items: [{ key: "app.conf", path: "app.conf" }] },
            },
            {
              name: "podinfo",
              downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }] },
            },
          ],
        },
        { app: "demo" },
      ),
    );
    const p = await phase("env-volumes", "Failed");
    const main = p.status!.containerStatuses![0]!;
    assert.equal(main.state!.terminated!.exitCode, 4);
    assert.equal(main.state!.terminated!.reason, "Error");
    assert.equal(main.state!.terminated!.message, "custom message\n");
    assert.ok(main.state!.terminated!.startedAt && main.state!.terminated!.finishedAt);
    assert.equal(main.ready, false);
    const init = p.status!.initContainerStatuses![0]!;
    assert.equal(init.state!.terminated!.reason, "Completed");
    assert.equal(p.status!.podIP, "127.0.0.1");
    assert.ok(p.status!.startTime);
    const conditions = Object.fromEntries(p.status!.conditions!.map((c) => [c.type, c.status]));
    assert.equal(conditions.Initialized, "True");
    assert.equal(conditions.Ready, "False");
    assert.equal(conditions.PodScheduled, "True");
    const out = await logOf("env-volumes", "main");
    assert.equal(
      out,
      [
        "pw=hunter2 mode=fast pod=env-volumes ns=default app=demo ip=127.0.0.1 sa=default",
        "greeting=hi-env-volumes cfg_mode=fast k8s=127.0.0.1",
        "prepared",
        "secret-file",
        "x=1",
        'app="demo"',
        "via-subpath",
        "secret-ro",
        "ws-ro",
        "to-stderr",
        "",
      ].join("\n"),
    );
    assert.equal(await logOf("env-volumes", "main", { tailLines: 2 }), "ws-ro\nto-stderr\n");
    assert.match(
      await logOf("env-volumes", "main", { timestamps: true, tailLines: 1 }),
      /^\d{4}-\d\d-\d\dT\S+Z to-stderr\n$/,
    );
    assert.equal(await logOf("env-volumes", "prepare"), "");
    const events = await waitFor("events", async () => {
      const list = await core.listNamespacedEvent({ namespace: ns });
      const mine = list.items.filter((e) => e.involvedObject.name === "env-volumes");
      return mine.some(
        (e) => e.reason === "Started" && e.involvedObject.fieldPath === "spec.containers{main}",
      )
        ? mine
        : undefined;
    });
    assert.ok(
      events.some(
        (e) => e.reason === "Created" && e.involvedObject.fieldPath === "spec.initContainers{prepare}",
      ),
    );
    assert.ok(events.every((e) => e.source?.component === "kubelet"));
  });

  test("logs can be followed while the container runs, and the stream ends with it", async () => {
    await create(
      pod("follow", {
        containers: [
          { name: "main", image: "busybox", command: ["sh", "-c", "echo first; sleep 1; echo second"] },
        ],
      }),
    );
    await phase("follow", "Running");
    const chunks: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        chunks.push(String(chunk));
        cb();
      },
    });
    const ended = new Promise<void>((resolve, reject) => {
      sink.on("finish", resolve);
      sink.on("error", reject);
    });
    await new Log(cluster.kubeConfig).log(ns, "follow", "main", sink, { follow: true });
    await Promise.race([ended, sleep(10_000).then(() => Promise.reject(new Error("follow did not end")))]);
    assert.equal(chunks.join(""), "first\nsecond\n");
  });

  test("host-mirror mode runs commands as given: `kiln` is not on the host's PATH, so it cannot start", async () => {
    await create(
      pod("kiln-cli", { containers: [{ name: "kiln", image: "kiln:dev", command: ["kiln", "--help"] }] }),
    );
    const p = await phase("kiln-cli", "Failed");
    const t = p.status!.containerStatuses![0]!.state!.terminated!;
    assert.equal(t.reason, "StartError");
    assert.equal(t.exitCode, 128);
    assert.match(t.message ?? "", /exec: "kiln": executable file not found in \$PATH: unknown$/);
    const events = (await core.listNamespacedEvent({ namespace: ns })).items.filter(
      (e) => e.involvedObject.name === "kiln-cli",
    );
    const pulled = events.find((e) => e.reason === "Pulled");
    assert.match(
      pulled?.message ?? "",
      /"kiln:dev" is not in this node's local container storage: the host's filesystem stands in/,
    );
    assert.equal(pulled?.type, "Normal");
  });

  test("init containers run in order; a failing one fails the pod and nothing after it runs", async () => {
    const step = (n: string, code = 0) => ({
      name: `init-${n}`,
      image: "busybox",
      command: ["sh", "-c", `echo ${n} >> /w/order; ${code ? `echo failing-${n} >&2; ` : ""}exit ${code}`],
      volumeMounts: [{ name: "w", mountPath: "/w" }],
    });
    const main = {
      name: "main",
      image: "busybox",
      command: ["sh", "-c", "cat /w/order"],
      volumeMounts: [{ name: "w", mountPath: "/w" }],
    };
    await create(
      pod("init-order", {
        initContainers: [step("1"), step("2")],
        containers: [main],
        volumes: [{ name: "w", emptyDir: {} }],
      }),
    );
    await create(
      pod("init-fail", {
        initContainers: [
          step("1"),
          { ...step("2", 3), terminationMessagePolicy: "FallbackToLogsOnError" },
          step("3"),
        ],
        containers: [main],
        volumes: [{ name: "w", emptyDir: {} }],
      }),
    );
    await phase("init-order", "Succeeded");
    assert.equal(await logOf("init-order", "main"), "1\n2\n");
    const failed = await phase("init-fail", "Failed");
    const inits = failed.status!.initContainerStatuses!;
    assert.equal(inits[0]!.state!.terminated!.exitCode, 0);
    assert.equal(inits[1]!.state!.terminated!.exitCode, 3);
    assert.equal(inits[1]!.state!.terminated!.reason, "Error");
    assert.equal(inits[1]!.state!.terminated!.message, "failing-2\n");
    assert.equal(inits[2]!.state!.waiting!.reason, "PodInitializing");
    assert.equal(failed.status!.containerStatuses![0]!.state!.waiting!.reason, "PodInitializing");
    assert.equal(failed.status!.conditions!.find((c) => c.type === "Initialized")!.status, "False");
  });

  test("a native sidecar gates the next container on its startup probe and stops after the main ones", async () => {
    const port = await freePort();
    const server = `setTimeout(() => require("net").createServer(s => s.on("error", () => {}).end("pong")).listen(${port}, "127.0.0.1"), 700)`;
    await create(
      pod("sidecar", {
        terminationGracePeriodSeconds: 1,
        initContainers: [
          {
            name: "service",
            image: "postgres",
            restartPolicy: "Always",
            command: ["node", "-e", server],
            startupProbe: { tcpSocket: { port }, periodSeconds: 1, failureThreshold: 30 },
            readinessProbe: { exec: { command: ["true"] }, periodSeconds: 1 },
          },
        ],
        containers: [
          {
            name: "main",
            image: "busybox",
            command: [
              "node",
              "-e",
              `require("net").connect(${port}, "127.0.0.1").on("data", d => console.log(String(d)))`,
            ],
          },
        ],
      }),
    );
    const running = await waitFor("sidecar started", async () => {
      const p = await read("sidecar");
      const s = p.status?.initContainerStatuses?.[0];
      return s?.state?.running ? p : undefined;
    });
    // Until the startup probe passes, the main container has not started.
    if (!running.status!.initContainerStatuses![0]!.started) {
      assert.ok(
        !running.status!.containerStatuses?.[0]?.state?.running &&
          !running.status!.containerStatuses?.[0]?.state?.terminated,
      );
    }
    const done = await phase("sidecar", "Succeeded");
    assert.equal(await logOf("sidecar", "main"), "pong\n");
    const svc = done.status!.initContainerStatuses![0]!;
    assert.ok(svc.state!.terminated, "the sidecar was stopped");
    const main = done.status!.containerStatuses![0]!.state!.terminated!;
    const gap = new Date(main.startedAt!).getTime() - new Date(svc.state!.terminated!.startedAt!).getTime();
    assert.ok(gap >= 600, `main started ${gap} ms after the sidecar, before its port was open`);
  });

  test("a sidecar's readiness is reported and gates the pod's Ready condition", async () => {
    await create(
      pod("readiness", {
        terminationGracePeriodSeconds: 1,
        initContainers: [
          {
            name: "svc",
            image: "redis",
            restartPolicy: "Always",
            command: ["sh", "-c", "sleep 0.8; touch /tmp/ready; exec sleep 60"],
            readinessProbe: { exec: { command: ["test", "-f", "/tmp/ready"] }, periodSeconds: 1 },
          },
        ],
        containers: [{ name: "main", image: "busybox", command: ["sleep", "60"] }],
      }),
    );
    const unready = await waitFor("main running", async () => {
      const p = await read("readiness");
      return p.status?.containerStatuses?.[0]?.state?.running ? p : undefined;
    });
    assert.equal(unready.status!.conditions!.find((c) => c.type === "Ready")!.status, "False");
    await waitFor("pod ready", async () => {
      const p = await read("readiness");
      return p.status?.conditions?.find((c) => c.type === "Ready")?.status === "True" ? p : undefined;
    });
    await core.deleteNamespacedPod({ name: "readiness", namespace: ns });
  });

  test("activeDeadlineSeconds kills the pod: Failed, DeadlineExceeded", async () => {
    await create(
      pod("deadline", {
        activeDeadlineSeconds: 1,
        terminationGracePeriodSeconds: 1,
        containers: [{ name: "main", image: "busybox", command: ["sleep", "60"] }],
      }),
    );
    const p = await phase("deadline", "Failed");
    assert.equal(p.status!.reason, "DeadlineExceeded");
    const killed = await waitFor(
      "container killed",
      async () => (await read("deadline")).status?.containerStatuses?.[0]?.state?.terminated,
    );
    assert.equal(killed.exitCode, 137);
  });

  test("activeDeadlineSeconds set on a running pod takes effect; a forced deletion cuts the grace period", async () => {
    await create(
      pod("late-deadline", {
        nodeName: kubelet.nodeName,
        terminationGracePeriodSeconds: 60,
        containers: [{ name: "main", image: "busybox", command: ["sleep", "60"] }],
      }),
    );
    await phase("late-deadline", "Running");
    await core.patchNamespacedPod({
      name: "late-deadline",
      namespace: ns,
      body: [{ op: "add", path: "/spec/activeDeadlineSeconds", value: 1 }],
    });
    const failed = await phase("late-deadline", "Failed");
    assert.equal(failed.status!.reason, "DeadlineExceeded");
    await create(
      pod("forced", {
        nodeName: kubelet.nodeName,
        terminationGracePeriodSeconds: 60,
        containers: [{ name: "main", image: "busybox", command: ["sleep", "60"] }],
      }),
    );
    await phase("forced", "Running");
    await core.deleteNamespacedPod({ name: "forced", namespace: ns }); // graceful: 60 s, sleep ignores SIGTERM
    await sleep(200);
    const started = Date.now();
    await core.deleteNamespacedPod({ name: "forced", namespace: ns, gracePeriodSeconds: 1 });
    await podGone("forced");
    assert.ok(Date.now() - started < 8_000, "the shorter grace period applied");
  });

  test("deleting a pod leaves no process behind", async () => {
    const marker = `kiln-delete-${process.pid}-${Date.now()}`;
    await create(
      pod("deleted", {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: "main",
            image: "busybox",
            command: ["sh", "-c", `sh -c 'sleep 60; : ${marker}-bg' & sh -c 'sleep 60; : ${marker}-fg'`],
          },
        ],
      }),
    );
    await phase("deleted", "Running");
    await waitFor("both processes", async () => pidsWith(marker).length >= 2);
    await core.deleteNamespacedPod({ name: "deleted", namespace: ns });
    await podGone("deleted");
    await waitFor("processes gone", async () => pidsWith(marker).length === 0, 5_000);
  });

  test("graceful deletion of a bound pod: SIGTERM, the pod's own exit, then removal with grace 0", async (t) => {
    const hostDir = fs.mkdtempSync(`${os.tmpdir()}/kubelet-graceful-`);
    t.after(() => fs.rmSync(hostDir, { recursive: true, force: true }));
    await create(
      pod("graceful", {
        nodeName: kubelet.nodeName,
        terminationGracePeriodSeconds: 30,
        containers: [
          {
            name: "main",
            image: "busybox",
            command: [
              "sh",
              "-c",
              "trap 'echo got-term > /out/result; exit 0' TERM; while :; do sleep 0.05; done",
            ],
            volumeMounts: [{ name: "out", mountPath: "/out" }],
          },
        ],
        volumes: [{ name: "out", hostPath: { path: hostDir } }],
      }),
    );
    await phase("graceful", "Running");
    const started = Date.now();
    await core.deleteNamespacedPod({ name: "graceful", namespace: ns });
    const deleting = await read("graceful");
    assert.ok(deleting.metadata!.deletionTimestamp, "the server marks the bound pod for graceful deletion");
    await podGone("graceful");
    assert.ok(Date.now() - started < 10_000, "removed once its process exited, not after the grace period");
    assert.equal(fs.readFileSync(`${hostDir}/result`, "utf8"), "got-term\n");
  });

  test("lifecycle hooks: postStart runs inside the container, preStop before SIGTERM", async (t) => {
    const hostDir = fs.mkdtempSync(`${os.tmpdir()}/kubelet-hooks-`);
    t.after(() => fs.rmSync(hostDir, { recursive: true, force: true }));
    await create(
      pod("hooks", {
        nodeName: kubelet.nodeName,
        terminationGracePeriodSeconds: 10,
        containers: [
          {
            name: "main",
            image: "busybox",
            command: [
              "sh",
              "-c",
              "until [ -f /tmp/post ]; do sleep 0.05; done; echo saw-post > /out/main; " +
                "trap 'echo term-after-$(cat /out/prestop) >> /out/main; exit 0' TERM; while :; do sleep 0.05; done",
            ],
            lifecycle: {
              postStart: { exec: { command: ["sh", "-c", "touch /tmp/post"] } },
              preStop: { exec: { command: ["sh", "-c", "echo prestop > /out/prestop"] } },
            },
            volumeMounts: [{ name: "out", mountPath: "/out" }],
          },
        ],
        volumes: [{ name: "out", hostPath: { path: hostDir } }],
      }),
    );
    await waitFor("postStart seen", async () => fs.existsSync(`${hostDir}/main`));
    await core.deleteNamespacedPod({ name: "hooks", namespace: ns });
    await podGone("hooks");
    assert.equal(fs.readFileSync(`${hostDir}/main`, "utf8"), "saw-post\nterm-after-prestop\n");
  });

  test("a pod kube-scheduler could not place stays Pending and unbound; a matching nodeSelector runs", async () => {
    await create(
      pod("too-big", {
        containers: [
          { name: "main", image: "busybox", command: ["true"], resources: { requests: { cpu: "1000" } } },
        ],
      }),
    );
    await create(
      pod("elsewhere", {
        nodeSelector: { "kubernetes.io/hostname": "another-node" },
        containers: [{ name: "main", image: "busybox", command: ["true"] }],
      }),
    );
    await create(
      pod("here", {
        nodeSelector: { "kubernetes.io/hostname": kubelet.nodeName },
        containers: [{ name: "main", image: "busybox", command: ["true"] }],
      }),
    );
    await phase("here", "Succeeded");
    for (const [name, message] of [
      ["too-big", "0/1 nodes are available: 1 Insufficient cpu."],
      ["elsewhere", "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."],
    ] as const) {
      const p = await waitFor(`${name} unschedulable`, async () => {
        const p = await read(name);
        return p.status?.conditions?.some((c) => c.type === "PodScheduled" && c.status === "False") && p;
      });
      assert.equal(p.status?.phase, "Pending");
      assert.equal(p.spec?.nodeName, undefined, "not bound");
      const scheduled = p.status?.conditions?.find((c) => c.type === "PodScheduled");
      assert.equal(scheduled?.reason, "Unschedulable");
      assert.equal(scheduled?.message, message);
      await waitFor(`${name} FailedScheduling event`, async () =>
        (await core.listNamespacedEvent({ namespace: ns })).items.some(
          (e) => e.involvedObject.name === name && e.reason === "FailedScheduling" && e.message === message,
        ),
      );
      assert.equal(p.status?.containerStatuses, undefined, "nothing ran");
      await core.deleteNamespacedPod({ name, namespace: ns });
    }
  });

  test("exec runs a command inside a running container", async () => {
    await create(
      pod("exec", {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: "main",
            image: "busybox",
            command: ["sh", "-c", "echo inside > /tmp/mark; exec sleep 60"],
            env: [{ name: "WHO", value: "main-env" }],
            securityContext: { runAsUser: 4242 },
          },
        ],
      }),
    );
    await phase("exec", "Running");
    await waitFor("marker", async () => {
      const child = kubelet.exec(ns, "exec", "main", ["cat", "/tmp/mark"]);
      return child && (await text(child.stdout!)) === "inside\n";
    });
    const child = kubelet.exec(ns, "exec", "main", [
      "sh",
      "-c",
      "echo $WHO $(hostname) $(id -u); tr '\\0' ' ' < /proc/1/cmdline",
    ]);
    assert.ok(child);
    const [out, code] = await Promise.all([text(child.stdout!), new Promise((r) => child.on("close", r))]);
    assert.equal(code, 0);
    assert.equal(out, "main-env exec 4242\nsleep 60 ");
    const etc = kubelet.exec(ns, "exec", "main", [
      "sh",
      "-c",
      "cat /etc/hostname; tail -n 1 /etc/hosts; getent hosts exec",
    ]);
    assert.ok(etc);
    assert.equal(await text(etc.stdout!), "exec\n127.0.0.1\texec\n127.0.0.1       exec\n");
    assert.equal(kubelet.exec(ns, "exec", "nope", ["true"]), undefined);
    await core.deleteNamespacedPod({ name: "exec", namespace: ns });
  });

  test("only the container that mounts the token volume sees the token", async () => {
    await create(
      pod("token", {
        containers: [
          {
            name: "agent",
            image: "kiln",
            command: [
              "sh",
              "-c",
              "cd /var/run/secrets/kubernetes.io/serviceaccount && ls && wc -c < token && cat namespace",
            ],
            volumeMounts: [
              { name: "token", mountPath: "/var/run/secrets/kubernetes.io/serviceaccount", readOnly: true },
            ],
          },
          {
            name: "build",
            image: "node",
            command: [
              "sh",
              "-c",
              // The token's file on the host (in the kubelet's data dir) is out of reach too.
              `ls /var/run/secrets/kubernetes.io/serviceaccount 2>&1; echo host-tokens=$(find ${kubelet.dataDir} -name token 2>/dev/null | wc -l); ` +
                "find / -xdev -name token -path '*serviceaccount*' 2>/dev/null | wc -l",
            ],
          },
        ],
        volumes: [
          {
            name: "token",
            projected: {
              sources: [
                { serviceAccountToken: { path: "token", expirationSeconds: 3600 } },
                { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
                {
                  downwardAPI: {
                    items: [{ path: "namespace", fieldRef: { fieldPath: "metadata.namespace" } }],
                  },
                },
              ],
            },
          },
        ],
      }),
    );
    await phase("token", "Succeeded", "Failed");
    const agent = (await logOf("token", "agent")).split("\n");
    assert.deepEqual(agent.slice(0, 3), ["ca.crt", "namespace", "token"]);
    assert.ok(Number(agent[3]) > 20, "a real token");
    assert.equal(agent[4], "default");
    const build = await logOf("token", "build");
    assert.match(build, /No such file or directory/);
    assert.match(build, /\n0\n$/);
    assert.match(build, /\nhost-tokens=0\n/);
    const onHost = fs.readdirSync(kubelet.dataDir, { recursive: true }).map(String);
    assert.ok(
      onHost.some((f) => f.endsWith("/token")),
      `the agent's token is on the host, in ${kubelet.dataDir}`,
    );
  });

  test("securityContext: users, fsGroup, read-only root, capabilities, runAsNonRoot", async () => {
    await create(
      pod("security", {
        securityContext: { fsGroup: 65532 },
        initContainers: [
          {
            name: "as-user",
            image: "kiln",
            command: [
              "sh",
              "-c",
              "id -u; id -g; id -G; echo $HOME; touch /w/file; touch /tmp/x 2>/dev/null || echo tmp-ro; touch /deep/f && echo subpath-rw",
            ],
            securityContext: {
              runAsUser: 65532,
              runAsGroup: 65532,
              runAsNonRoot: true,
              readOnlyRootFilesystem: true,
              allowPrivilegeEscalation: false,
            },
            // A missing subPath is made as the kubelet makes it: with the volume root's mode, so the
            // fsGroup (and here anyone) may write there.
            volumeMounts: [
              { name: "w", mountPath: "/w" },
              { name: "w", mountPath: "/deep", subPath: "a/b" },
            ],
          },
        ],
        containers: [
          {
            name: "root",
            image: "node",
            command: [
              "sh",
              "-c",
              "id -u; ls -ln /w/file | awk '{print $3, $4}'; touch /tmp/ok && echo tmp-rw; chown 1:1 /w/file 2>/dev/null || echo no-chown",
            ],
            securityContext: { capabilities: { drop: ["ALL"] } },
            volumeMounts: [{ name: "w", mountPath: "/w" }],
          },
        ],
        volumes: [{ name: "w", emptyDir: {} }],
      }),
    );
    await phase("security", "Succeeded");
    assert.equal(await logOf("security", "as-user"), "65532\n65532\n65532\n/\ntmp-ro\nsubpath-rw\n");
    assert.equal(await logOf("security", "root"), "0\n65532 65532\ntmp-rw\nno-chown\n");
    await create(
      pod("non-root", {
        securityContext: { runAsNonRoot: true },
        containers: [{ name: "main", image: "busybox", command: ["id"] }],
      }),
    );
    await waitFor("runAsNonRoot refusal", async () => {
      const w = (await read("non-root")).status?.containerStatuses?.[0]?.state?.waiting;
      return (
        w?.reason === "CreateContainerConfigError" &&
        /runAsNonRoot and image will run as root/.test(w.message ?? "")
      );
    });
  });

  test("projected tokens are renewed before they expire", async () => {
    await create(
      pod("token-refresh", {
        containers: [
          {
            name: "agent",
            image: "kiln",
            command: [
              "sh",
              "-c",
              "for i in 1 2 3 4 5 6 7 8 9 10; do stat -c %i /var/run/tok/token; sleep 0.25; done; wc -c < /var/run/tok/token",
            ],
            volumeMounts: [{ name: "tok", mountPath: "/var/run/tok", readOnly: true }],
          },
        ],
        volumes: [
          {
            name: "tok",
            projected: { sources: [{ serviceAccountToken: { path: "token", expirationSeconds: 600 } }] },
          },
        ],
      }),
    );
    await phase("token-refresh", "Succeeded");
    const lines = (await logOf("token-refresh", "agent")).trim().split("\n");
    const inodes = new Set(lines.slice(0, -1));
    assert.ok(inodes.size >= 2, `the token file was replaced (inodes ${[...inodes].join(",")})`);
    assert.ok(Number(lines.at(-1)) > 20, "still a token");
  });

  test("containers that cannot run: no command, image that cannot be pulled, missing executable", async () => {
    await create(pod("no-command", { containers: [{ name: "main", image: "nginx" }] }));
    await create(pod("no-exe", { containers: [{ name: "main", image: "x", command: ["/no/such/binary"] }] }));
    await waitFor("CreateContainerError", async () => {
      const p = await read("no-command");
      const w = p.status?.containerStatuses?.[0]?.state?.waiting;
      return (
        w?.reason === "CreateContainerError" &&
        /no command/.test(w.message ?? "") &&
        p.status?.phase === "Pending"
      );
    });
    await create(
      pod("bad-image", {
        containers: [{ name: "main", image: "registry.invalid/nope:1", command: ["true"] }],
      }),
    );
    await waitFor("ImagePullBackOff after ErrImagePull", async () => {
      const p = await read("bad-image");
      const w = p.status?.containerStatuses?.[0]?.state?.waiting;
      return w?.reason === "ImagePullBackOff" && p.status?.phase === "Pending";
    });
    const pullEvents = (await core.listNamespacedEvent({ namespace: ns })).items.filter(
      (e) => e.involvedObject.name === "bad-image",
    );
    assert.ok(pullEvents.some((e) => e.reason === "Failed" && /Failed to pull image/.test(e.message ?? "")));
    // Repeats are aggregated into one Event with a count, as the kubelet's event correlator does.
    const backOff = await waitFor("aggregated BackOff", async () => {
      const list = await core.listNamespacedEvent({ namespace: ns });
      const b = list.items.filter((e) => e.involvedObject.name === "bad-image" && e.reason === "BackOff");
      return b.length === 1 && (b[0]!.count ?? 0) >= 2 ? b[0] : undefined;
    });
    assert.match(backOff.message ?? "", /Back-off pulling image "registry.invalid\/nope:1"/);
    const p = await phase("no-exe", "Failed");
    const t = p.status!.containerStatuses![0]!.state!.terminated!;
    assert.equal(t.reason, "StartError");
    assert.equal(t.exitCode, 128);
    assert.match(
      t.message ?? "",
      /exec: "\/no\/such\/binary": stat \/no\/such\/binary: no such file or directory: unknown$/,
    );
  });

  test("limits.memory is enforced and an OOM kill is reported as OOMKilled", {
    skip: !cgroupsAvailable() && "no writable memory cgroup here",
  }, async () => {
    const hog =
      "const a = []; for (let i = 0; i < 64; i++) a.push(Buffer.alloc(16 << 20, 1)); console.log('survived')";
    await create(
      pod("oom", {
        containers: [
          {
            name: "main",
            image: "node",
            command: ["node", "-e", hog],
            resources: { limits: { memory: "96Mi" } },
          },
        ],
      }),
    );
    const p = await phase("oom", "Failed");
    const t = p.status!.containerStatuses![0]!.state!.terminated!;
    assert.equal(t.reason, "OOMKilled");
    assert.equal(t.exitCode, 137);
  });

  test("restartPolicy OnFailure restarts with back-off; previous logs are kept", async () => {
    await create(
      pod("restart", {
        restartPolicy: "OnFailure",
        containers: [
          {
            name: "main",
            image: "busybox",
            command: [
              "sh",
              "-c",
              "n=$(cat /w/n 2>/dev/null || echo 0); echo run $n; echo $((n+1)) > /w/n; [ $n -ge 1 ]",
            ],
            volumeMounts: [{ name: "w", mountPath: "/w" }],
          },
        ],
        volumes: [{ name: "w", emptyDir: {} }],
      }),
    );
    const p = await phase("restart", "Succeeded");
    const s = p.status!.containerStatuses![0]!;
    assert.equal(s.restartCount, 1);
    assert.equal(s.lastState!.terminated!.exitCode, 1);
    assert.equal(await logOf("restart", "main"), "run 1\n");
    assert.equal(await logOf("restart", "main", { previous: true }), "run 0\n");
  });

  test("a missing Secret keeps the container waiting until it appears", async () => {
    await create(
      pod("late-secret", {
        containers: [
          {
            name: "main",
            image: "busybox",
            command: ["sh", "-c", "echo $V"],
            env: [{ name: "V", valueFrom: { secretKeyRef: { name: "late", key: "v" } } }],
          },
        ],
      }),
    );
    await waitFor("CreateContainerConfigError", async () => {
      const p = await read("late-secret");
      const w = p.status?.containerStatuses?.[0]?.state?.waiting;
      return w?.reason === "CreateContainerConfigError" && w.message === 'secret "late" not found';
    });
    await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: "late" }, stringData: { v: "arrived" } },
    });
    await phase("late-secret", "Succeeded");
    assert.equal(await logOf("late-secret", "main"), "arrived\n");
  });
});
