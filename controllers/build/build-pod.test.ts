import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { V1Pod } from "@kubernetes/client-node";
import { build as buildSchema } from "../../api/build.ts";
import { CACHE_MOUNT_DIR, CACHE_VOLUME } from "../../api/cache.ts";
import { rerunOf } from "../../api/new-build.ts";
import { AGENT_ENV, GIT_TOKEN_DIR, SECRETS_DIR, STORE_TOKEN_DIR } from "../../api/pod-protocol.ts";
import { STORE_AUDIENCE } from "../../api/store-protocol.ts";
import { sampleBuild, sampleConfig, samplePipeline, sampleRepository } from "../../test/fixtures/build.ts";
import { buildPod, mayUseSecrets, runsAsNonRoot } from "./build-pod.ts";
import type { PodPipeline } from "./pipeline.ts";

const podOf = (...args: Parameters<typeof buildPod>) => buildPod(...args);

describe("buildPod", () => {
  test("a public repository, no services", (t) => {
    t.assert.snapshot(podOf(sampleBuild(), sampleRepository(), samplePipeline, sampleConfig));
  });

  test("a private repository with a postgres (port probe) and a redis (command probe) service", (t) => {
    const repo = sampleRepository({ tokenSecretRef: { name: "acme-api-github", key: "token" } });
    const pipeline = {
      image: "node:24",
      services: [
        {
          name: "postgres",
          image: "postgres:17",
          env: { POSTGRES_PASSWORD: "test" },
          ports: [5432],
          ready: { port: 5432, timeoutMs: 300_000 },
        },
        // A readiness timeout of 60s: 60 startup probes, one a second.
        { name: "redis", image: "redis:7", ready: { command: ["redis-cli", "ping"], timeoutMs: 60_000 } },
      ],
    };
    const build = sampleBuild({ spec: { pauseOnFailure: true, timeout: "1h30m" } });
    t.assert.snapshot(podOf(build, repo, pipeline, sampleConfig));
  });

  test("only the fetch container sees the git token, only the agent the service-account token", (t) => {
    const repo = sampleRepository({ tokenSecretRef: { name: "s", key: "token" } });
    const pod = podOf(sampleBuild(), repo, samplePipeline, sampleConfig);
    const all = [...(pod.spec!.initContainers ?? []), ...pod.spec!.containers];
    const mounting = (volume: string) =>
      all.filter((c) => c.volumeMounts?.some((m) => m.name === volume)).map((c) => c.name);
    t.assert.deepEqual(mounting("git-token"), ["fetch"]);
    t.assert.deepEqual(mounting("agent-token"), ["agent"]);
    t.assert.equal(pod.spec!.automountServiceAccountToken, false);
    assert.ok(pod.spec!.initContainers![0]!.args!.includes("--token-file"));
    const fetchMount = pod.spec!.initContainers![0]!.volumeMounts!.find((m) => m.name === "git-token");
    t.assert.equal(fetchMount?.mountPath, GIT_TOKEN_DIR);
    assert.ok(
      pod.spec!.containers.every((c) => !c.env?.some((e) => "valueFrom" in e && e.valueFrom?.secretKeyRef)),
    );
  });

  test("with a store: the agent alone gets its URL and a pod-bound token for the store's audience", (t) => {
    const pod = podOf(sampleBuild(), sampleRepository(), samplePipeline, {
      ...sampleConfig,
      storeURL: "http://kiln-store.kiln.svc",
    });
    const all = [...(pod.spec!.initContainers ?? []), ...pod.spec!.containers];
    t.assert.deepEqual(
      all.filter((c) => c.volumeMounts?.some((m) => m.name === "store-token")).map((c) => c.name),
      ["agent"],
    );
    const volume = pod.spec!.volumes!.find((v) => v.name === "store-token");
    t.assert.deepEqual(volume?.projected?.sources, [
      { serviceAccountToken: { path: "token", audience: STORE_AUDIENCE, expirationSeconds: 3600 } },
    ]);
    const agent = pod.spec!.containers.find((c) => c.name === "agent")!;
    t.assert.equal(agent.volumeMounts!.find((m) => m.name === "store-token")?.mountPath, STORE_TOKEN_DIR);
    t.assert.deepEqual(
      all.filter((c) => c.env?.some((e) => e.name === AGENT_ENV.storeURL)).map((c) => c.name),
      ["agent"],
    );
    // Without a store, nothing of it.
    const without = podOf(sampleBuild(), sampleRepository(), samplePipeline, sampleConfig);
    t.assert.equal(
      without.spec!.volumes!.find((v) => v.name === "store-token"),
      undefined,
    );
  });

  test("cache paths outside the workspace: a subPath each in the build container, the whole volume in the agent", (t) => {
    const pipeline = {
      ...samplePipeline,
      cachePaths: ["node_modules", "/root/.npm", "/usr/local/share/.cache/"],
    };
    const config = { ...sampleConfig, storeURL: "http://kiln-store.kiln.svc" };
    const repo = sampleRepository({ defaultBranch: "trunk" });
    const pod = podOf(sampleBuild(), repo, pipeline, config);
    const [build, agent] = pod.spec!.containers;
    t.assert.deepEqual(
      build!.volumeMounts!.filter((m) => m.name === CACHE_VOLUME),
      [
        { name: CACHE_VOLUME, mountPath: "/root/.npm", subPath: "root/.npm" },
        { name: CACHE_VOLUME, mountPath: "/usr/local/share/.cache", subPath: "usr/local/share/.cache" },
      ],
      "node_modules is in the workspace: no mount of its own",
    );
    t.assert.deepEqual(
      agent!.volumeMounts!.filter((m) => m.name === CACHE_VOLUME),
      [{ name: CACHE_VOLUME, mountPath: CACHE_MOUNT_DIR }],
    );
    t.assert.deepEqual(
      pod.spec!.volumes!.find((v) => v.name === CACHE_VOLUME),
      { name: CACHE_VOLUME, emptyDir: {} },
    );
    const env = (name: string) => agent!.env!.find((e) => e.name === name);
    t.assert.deepEqual(env(AGENT_ENV.defaultBranch), { name: AGENT_ENV.defaultBranch, value: "trunk" });
    t.assert.deepEqual(env(AGENT_ENV.repository), { name: AGENT_ENV.repository, value: repo.metadata.name });
    // No store: no cache either, so nothing hides what the image has at those paths.
    const without = podOf(sampleBuild(), repo, pipeline, sampleConfig);
    t.assert.equal(
      without.spec!.volumes!.find((v) => v.name === CACHE_VOLUME),
      undefined,
    );
    assert.ok(without.spec!.containers.every((c) => !c.volumeMounts!.some((m) => m.name === CACHE_VOLUME)));
    // Only workspace paths: no volume.
    const inside = podOf(sampleBuild(), repo, { ...samplePipeline, cachePaths: ["node_modules"] }, config);
    t.assert.equal(
      inside.spec!.volumes!.find((v) => v.name === CACHE_VOLUME),
      undefined,
    );
  });

  test("a pull request from a fork gets no token at all", (t) => {
    const repo = sampleRepository({ tokenSecretRef: { name: "s", key: "token" } });
    const build = sampleBuild({
      spec: { trigger: { event: "pull_request", pullRequest: { number: 7, fork: true } } },
    });
    const pod = podOf(build, repo, samplePipeline, sampleConfig);
    t.assert.equal(pod.spec!.volumes!.filter((v) => v.secret).length, 0);
    assert.ok(!pod.spec!.initContainers![0]!.args!.includes("--token-file"));
  });

  describe("secrets", () => {
    const withSecrets: PodPipeline = {
      ...samplePipeline,
      secrets: [
        { env: "NPM_TOKEN", secretRef: { name: "npm", key: "token" } },
        { env: "DEPLOY_KEY", secretRef: { name: "deploy", key: "id_ed25519" } },
        { env: "NPM_USER", secretRef: { name: "npm", key: "user" } },
      ],
    };
    const containers = (pod: V1Pod) => [...(pod.spec!.initContainers ?? []), ...pod.spec!.containers];
    const secretEnv = (pod: V1Pod) =>
      containers(pod).flatMap((c) =>
        (c.env ?? []).filter((e) => e.valueFrom?.secretKeyRef).map((e) => ({ container: c.name, ...e })),
      );

    test("the build container alone gets them, by secretKeyRef; the agent alone mounts them", (t) => {
      const pod = podOf(sampleBuild(), sampleRepository(), withSecrets, sampleConfig);
      t.assert.snapshot(pod);
      t.assert.deepEqual(secretEnv(pod), [
        { container: "build", name: "NPM_TOKEN", valueFrom: { secretKeyRef: { name: "npm", key: "token" } } },
        {
          container: "build",
          name: "DEPLOY_KEY",
          valueFrom: { secretKeyRef: { name: "deploy", key: "id_ed25519" } },
        },
        { container: "build", name: "NPM_USER", valueFrom: { secretKeyRef: { name: "npm", key: "user" } } },
      ]);
      // Never a plain value.
      for (const c of containers(pod))
        for (const e of c.env ?? [])
          assert.ok(!withSecrets.secrets!.some((s) => s.env === e.name && e.value));
      t.assert.deepEqual(
        containers(pod)
          .filter((c) => c.volumeMounts?.some((m) => m.name === "secrets"))
          .map((c) => [c.name, c.volumeMounts!.find((m) => m.name === "secrets")]),
        [["agent", { name: "secrets", mountPath: SECRETS_DIR, readOnly: true }]],
      );
      t.assert.deepEqual(
        pod.spec!.volumes!.find((v) => v.name === "secrets"),
        {
          name: "secrets",
          projected: {
            defaultMode: 0o440,
            sources: [
              {
                secret: {
                  name: "npm",
                  items: [
                    { key: "token", path: "NPM_TOKEN" },
                    { key: "user", path: "NPM_USER" },
                  ],
                  optional: true,
                },
              },
              {
                secret: {
                  name: "deploy",
                  items: [{ key: "id_ed25519", path: "DEPLOY_KEY" }],
                  optional: true,
                },
              },
            ],
          },
        },
      );
    });

    test("a fork's pull request gets none, and its rerun (/rerun, kiln rerun) stays a fork's", (t) => {
      const fork = sampleBuild({
        spec: { trigger: { event: "pull_request", pullRequest: { number: 7, fork: true } } },
      });
      const rerun = rerunOf(fork, sampleRepository(), "api-rerun", "telegram:42", true);
      const again = buildSchema.parse({
        ...rerun,
        metadata: { ...rerun.metadata, namespace: "ci", uid: "u" },
      });
      t.assert.equal(mayUseSecrets(again), false);
      for (const build of [fork, again]) {
        const pod = podOf(build, sampleRepository(), withSecrets, sampleConfig);
        t.assert.deepEqual(secretEnv(pod), []);
        t.assert.equal(
          pod.spec!.volumes!.find((v) => v.name === "secrets"),
          undefined,
        );
        const agent = pod.spec!.containers.find((c) => c.name === "agent")!;
        t.assert.equal(agent.env!.find((e) => e.name === AGENT_ENV.fork)?.value, "true");
      }
      // A pull request from the repository itself is no fork.
      const own = sampleBuild({
        spec: { trigger: { event: "pull_request", pullRequest: { number: 8, fork: false } } },
      });
      t.assert.equal(secretEnv(podOf(own, sampleRepository(), withSecrets, sampleConfig)).length, 3);
    });
  });

  test("long build names still give a valid pod name and label", (t) => {
    const name = `api-${"x".repeat(80)}`;
    const pod = podOf(sampleBuild({ name }), sampleRepository(), samplePipeline, sampleConfig);
    t.assert.equal(pod.metadata!.name, `${name}-pod`);
    const label = pod.metadata!.labels!["kiln.dev/build"]!;
    assert.ok(label.length <= 63 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/i.test(label), label);
    t.assert.equal(pod.spec!.activeDeadlineSeconds, 1800);
  });

  test("a pipeline's resources win over Kiln's defaults key by key; services take command, args, user", (t) => {
    const pipeline = {
      image: "node:24",
      resources: { requests: { cpu: "2" }, limits: { memory: "8Gi" } },
      services: [
        {
          name: "postgres",
          image: "postgres:17",
          args: ["-c", "fsync=off"],
          user: { uid: 999, gid: 999 },
          resources: { limits: { memory: "1Gi" } },
        },
      ],
    };
    const pod = podOf(sampleBuild(), sampleRepository(), pipeline, sampleConfig);
    const build = pod.spec!.containers.find((c) => c.name === "build")!;
    t.assert.deepEqual(build.resources, {
      requests: { cpu: "2", memory: "512Mi" },
      limits: { memory: "8Gi" },
    });
    const postgres = pod.spec!.initContainers!.find((c) => c.name === "service-postgres")!;
    t.assert.deepEqual(postgres.args, ["-c", "fsync=off"]);
    t.assert.equal(postgres.command, undefined, "the image's entrypoint stays");
    t.assert.deepEqual(postgres.resources, {
      requests: { cpu: "100m", memory: "256Mi" },
      limits: { memory: "1Gi" },
    });
    t.assert.deepEqual(postgres.securityContext, {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      runAsNonRoot: true,
      runAsUser: 999,
      runAsGroup: 999,
    });
    // The build container runs as the image's user: baseline rights.
    t.assert.deepEqual(build.securityContext, {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["NET_RAW"] },
    });
  });

  test("non-root everywhere is what makes a pod restricted; root by name keeps baseline rights", (t) => {
    const nonRoot = {
      image: "node:24",
      user: { uid: 1000 },
      services: [{ name: "r", image: "redis", user: { uid: 999 } }],
    };
    t.assert.equal(runsAsNonRoot(nonRoot), true);
    t.assert.equal(runsAsNonRoot({ ...nonRoot, services: [{ name: "r", image: "redis" }] }), false);
    t.assert.equal(runsAsNonRoot({ image: "node:24", user: { uid: 0 }, services: [] }), false);
    t.assert.equal(runsAsNonRoot({ image: "node:24", services: [] }), false);
    const pod = podOf(
      sampleBuild(),
      sampleRepository(),
      { image: "x", user: { uid: 0 }, services: [] },
      sampleConfig,
    );
    t.assert.deepEqual(pod.spec!.containers[0]!.securityContext, {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["NET_RAW"] },
      runAsUser: 0,
    });
  });

  test("placement: Kiln's defaults and the Repository's own nodeSelector, tolerations and pull secrets", (t) => {
    const config = {
      ...sampleConfig,
      buildScheduling: {
        nodeSelector: { "node-pool": "builds" },
        tolerations: [{ key: "builds", operator: "Exists" as const, effect: "NoSchedule" as const }],
        imagePullSecrets: ["registry"],
      },
    };
    const repo = sampleRepository({
      buildPod: {
        nodeSelector: { "kubernetes.io/arch": "arm64" },
        tolerations: [{ key: "arm", operator: "Exists" }],
        imagePullSecrets: ["team-registry", "registry"],
      },
    });
    const spec = podOf(sampleBuild(), repo, samplePipeline, config).spec!;
    t.assert.deepEqual(spec.nodeSelector, { "node-pool": "builds", "kubernetes.io/arch": "arm64" });
    t.assert.deepEqual(
      spec.tolerations?.map((x) => x.key),
      ["builds", "arm"],
    );
    t.assert.deepEqual(spec.imagePullSecrets, [{ name: "registry" }, { name: "team-registry" }]);
    const plain = podOf(sampleBuild(), sampleRepository(), samplePipeline, sampleConfig).spec!;
    t.assert.equal(plain.nodeSelector, undefined);
    t.assert.equal(plain.tolerations, undefined);
    t.assert.equal(plain.imagePullSecrets, undefined);
  });

  test("the same inputs always give the same pod", (t) => {
    const a = podOf(sampleBuild(), sampleRepository(), samplePipeline, sampleConfig);
    const b = podOf(sampleBuild(), sampleRepository(), samplePipeline, sampleConfig);
    t.assert.deepEqual(a, b);
  });
});
