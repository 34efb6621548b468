import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { V1Container, V1Pod } from "@kubernetes/client-node";
import { CAPABILITY_NUMBERS } from "../../lib/container/container-init.ts";
import { type PlanImage, planContainer, startErrorMessage } from "./container-plan.ts";
import type { EnvInputs } from "./env.ts";

const inputs: EnvInputs = {
  secrets: new Map([["s", { token: "t0k" }]]),
  configMaps: new Map(),
  podIP: "127.0.0.1",
  hostIP: "127.0.0.1",
  nodeName: "n",
  apiServer: { host: "127.0.0.1", port: 6443 },
  allocatable: { cpu: 2, memory: 2 ** 32, "ephemeral-storage": 2 ** 34 },
};

/** An image like Kiln's: Entrypoint kiln, a user without a passwd entry, its own PATH and workdir. */
const kilnImage: PlanImage = {
  config: {
    Entrypoint: ["kiln"],
    Env: ["PATH=/usr/local/bin:/usr/bin:/bin", "NODE_VERSION=24"],
    WorkingDir: "/opt/kiln",
    User: "10001:10001",
  },
  files: { passwd: "root:x:0:0:root:/root:/bin/sh\n", group: "root:x:0:\n" },
};

function plan(
  c: Partial<V1Container>,
  podSc: NonNullable<V1Pod["spec"]>["securityContext"] = {},
  image: PlanImage | "host-mirror" = kilnImage,
) {
  const container = { name: "c", image: "localhost/kiln:dev", ...c };
  const pod: V1Pod = {
    metadata: { name: "p", namespace: "ns", uid: "u" },
    spec: { securityContext: podSc, containers: [container] },
  };
  return planContainer(pod, container, inputs, {
    hostname: "p",
    containerId: "u-c-0",
    image: image === "host-mirror" ? undefined : image,
    nodeDir: "/opt/node/bin",
  });
}

describe("planContainer", () => {
  test("image mode: Entrypoint + args (expanded over the container's env only), image env and user", () => {
    const r = plan(
      {
        args: ["agent", "--token=$(TOKEN)", "--path=$(PATH)"],
        env: [{ name: "TOKEN", valueFrom: { secretKeyRef: { name: "s", key: "token" } } }],
      },
      { fsGroup: 10001 },
    );
    assert.ok(r.ok);
    assert.deepEqual(r.plan.argv, ["kiln", "agent", "--token=t0k", "--path=$(PATH)"]);
    assert.equal(r.plan.env.get("PATH"), "/usr/local/bin:/usr/bin:/bin");
    assert.equal(r.plan.env.get("NODE_VERSION"), "24");
    assert.equal(r.plan.env.get("HOME"), "/");
    assert.equal(r.plan.env.get("HOSTNAME"), "p");
    assert.equal(r.plan.env.get("KUBERNETES_SERVICE_PORT"), "6443");
    assert.equal(r.plan.workingDir, "/opt/kiln");
    // USER 10001:10001 without a passwd entry: the kubelet sends only the uid, containerd finds gid 0.
    assert.deepEqual(r.plan.identity, {
      uid: 10001,
      gid: 0,
      groups: [0, 10001],
      capabilities: [
        "chown",
        "dac_override",
        "fsetid",
        "fowner",
        "mknod",
        "net_raw",
        "setgid",
        "setuid",
        "setfcap",
        "setpcap",
        "net_bind_service",
        "sys_chroot",
        "kill",
        "audit_write",
      ].map((n) => CAPABILITY_NUMBERS[n]),
    });
  });

  test("host-mirror mode: Node first on PATH, root with /root, the command as given", () => {
    const r = plan(
      { command: ["kiln", "--help"], securityContext: { capabilities: { drop: ["ALL"] } } },
      {},
      "host-mirror",
    );
    assert.ok(r.ok);
    assert.deepEqual(r.plan.argv, ["kiln", "--help"]);
    assert.match(r.plan.env.get("PATH") ?? "", /^\/opt\/node\/bin:\/usr\/local\/sbin:/);
    assert.equal(r.plan.env.get("HOME"), "/root");
    assert.equal(r.plan.workingDir, "/");
    assert.deepEqual(r.plan.identity, { uid: 0, gid: 0, groups: [0], capabilities: [] });
  });

  test("why a container cannot start, and whether the kubelet retries", () => {
    const who = '(pod: "p_ns(u)", container: c)';
    const cases: [
      string,
      Partial<V1Container>,
      NonNullable<V1Pod["spec"]>["securityContext"],
      PlanImage | "host-mirror",
      string,
      string,
      boolean,
    ][] = [
      [
        "missing Secret",
        { command: ["x"], env: [{ name: "A", valueFrom: { secretKeyRef: { name: "missing", key: "k" } } }] },
        {},
        kilnImage,
        "CreateContainerConfigError",
        'secret "missing" not found',
        true,
      ],
      [
        "runAsNonRoot, host mirror: the unknown user counts as root",
        { command: ["x"] },
        { runAsNonRoot: true },
        "host-mirror",
        "CreateContainerConfigError",
        `container has runAsNonRoot and image will run as root ${who}`,
        false,
      ],
      [
        "runAsNonRoot, image with a named user",
        {},
        { runAsNonRoot: true },
        { ...kilnImage, config: { ...kilnImage.config, User: "kiln" } },
        "CreateContainerConfigError",
        `container has runAsNonRoot and image has non-numeric user (kiln), cannot verify user is non-root ${who}`,
        false,
      ],
      [
        "nothing to run",
        {},
        {},
        { config: {}, files: {} },
        "CreateContainerError",
        'failed to generate container "u-c-0" spec: failed to generate spec: no command specified',
        false,
      ],
      [
        "a user the image does not have",
        { command: ["x"] },
        {},
        { ...kilnImage, config: { User: "ghost" } },
        "CreateContainerError",
        "failed to create containerd container: no users found",
        false,
      ],
      [
        "host mirror without a command",
        { args: ["only-args"] },
        {},
        "host-mirror",
        "CreateContainerError",
        "in host-mirror mode the process kubelet cannot know the image's entrypoint",
        false,
      ],
    ];
    for (const [name, c, sc, image, reason, message, retry] of cases) {
      const r = plan(c, sc, image);
      assert.equal(r.ok, false, name);
      assert.equal(!r.ok && r.reason, reason, name);
      assert.ok(!r.ok && r.message.includes(message), `${name}: ${!r.ok && r.message}`);
      assert.equal(!r.ok && r.retry, retry, name);
    }
  });

  test("a process that never started: containerd's StartError message around runc's", () => {
    assert.equal(
      startErrorMessage('exec: "kiln": executable file not found in $PATH'),
      "failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: " +
        'unable to start container process: error during container init: exec: "kiln": executable file not found in $PATH: unknown',
    );
  });
});
