import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError, parseControllerConfig } from "./config.ts";

describe("parseControllerConfig", () => {
  test("defaults", (t) => {
    const c = parseControllerConfig([], {});
    t.assert.deepEqual(c.namespaces, []);
    t.assert.equal(c.githubApiURL, "https://api.github.com");
    t.assert.equal(c.metricsPort, 9090);
    t.assert.equal(c.leaderElection.enabled, true);
    t.assert.equal(c.leaderElection.leaseDurationMs, 15_000);
    t.assert.equal(c.agentServiceAccount, "kiln-build");
  });

  test("flags win over environment; namespaces repeat or comma-separate", (t) => {
    const c = parseControllerConfig(
      [
        "--namespace",
        "a,b",
        "--namespace",
        "c",
        "--github-api-url",
        "https://ghe.example/api/v3",
        "--lease-duration",
        "6s",
      ],
      {
        KILN_NAMESPACES: "x",
        KILN_GITHUB_API_URL: "https://other.example",
        KILN_METRICS_PORT: "0",
        KILN_POD_NAME: "pod-1",
      },
    );
    t.assert.deepEqual(c.namespaces, ["a", "b", "c"]);
    t.assert.equal(c.githubApiURL, "https://ghe.example/api/v3");
    t.assert.equal(c.metricsPort, 0);
    t.assert.equal(c.leaderElection.identity, "pod-1");
    t.assert.equal(c.leaderElection.renewDeadlineMs, 4000);
    t.assert.equal(c.leaderElection.retryPeriodMs, 800);
  });

  test("environment alone", (t) => {
    const c = parseControllerConfig([], {
      KILN_NAMESPACES: "ci, builds",
      KILN_LEADER_ELECT: "false",
      KILN_START_TIMEOUT: "2m",
      KILN_CONTROLLERS: "build",
      KILN_MAX_REVIVALS: "0",
    });
    t.assert.equal(c.maxRevivals, 0);
    t.assert.deepEqual(c.namespaces, ["ci", "builds"]);
    t.assert.equal(c.leaderElection.enabled, false);
    t.assert.equal(c.startTimeoutMs, 120_000);
    t.assert.deepEqual(c.controllers, ["build"]);
  });

  test("build pod defaults: resources kubectl-style, scheduling and pull secrets", (t) => {
    const d = parseControllerConfig([], {});
    t.assert.deepEqual(d.buildResources, {
      requests: { cpu: "500m", memory: "512Mi" },
      limits: { memory: "4Gi" },
    });
    t.assert.deepEqual(d.buildScheduling, { nodeSelector: {}, tolerations: [], imagePullSecrets: [] });
    t.assert.equal(d.imagePullPolicy, "IfNotPresent");
    const c = parseControllerConfig(["--build-limits", "cpu=4,memory=8Gi"], {
      KILN_BUILD_REQUESTS: "cpu=1",
      KILN_SERVICE_LIMITS: "memory=1Gi",
      KILN_BUILD_NODE_SELECTOR: "node-pool=builds, kubernetes.io/arch=amd64",
      KILN_BUILD_TOLERATIONS: '[{"key":"builds","operator":"Exists","effect":"NoSchedule"}]',
      KILN_BUILD_IMAGE_PULL_SECRETS: "registry, mirror",
      KILN_IMAGE_PULL_POLICY: "Always",
    });
    t.assert.deepEqual(c.buildResources, { requests: { cpu: "1" }, limits: { cpu: "4", memory: "8Gi" } });
    t.assert.deepEqual(c.serviceResources, {
      requests: { cpu: "100m", memory: "256Mi" },
      limits: { memory: "1Gi" },
    });
    t.assert.deepEqual(c.buildScheduling, {
      nodeSelector: { "node-pool": "builds", "kubernetes.io/arch": "amd64" },
      tolerations: [{ key: "builds", operator: "Exists", effect: "NoSchedule" }],
      imagePullSecrets: ["registry", "mirror"],
    });
    t.assert.equal(c.imagePullPolicy, "Always");
  });

  const bad: Array<[string, string[], NodeJS.ProcessEnv, RegExp]> = [
    [
      "bad quantity",
      ["--build-requests", "cpu=lots"],
      {},
      /--build-requests: "cpu=lots" is not cpu=<quantity>/,
    ],
    ["bad node selector", [], { KILN_BUILD_NODE_SELECTOR: "builds" }, /"builds" is not key=value/],
    ["bad tolerations", [], { KILN_BUILD_TOLERATIONS: "[{" }, /--build-tolerations: not JSON/],
    [
      "bad toleration",
      [],
      { KILN_BUILD_TOLERATIONS: '[{"effect":"Sometimes"}]' },
      /buildScheduling\.tolerations/,
    ],
    ["bad pull policy", [], { KILN_IMAGE_PULL_POLICY: "Maybe" }, /imagePullPolicy/],
    ["unknown flag", ["--nope"], {}, /nope/],
    ["bad port", ["--metrics-port", "99999"], {}, /metricsPort/],
    ["bad duration", ["--start-timeout", "soon"], {}, /"soon" is not a duration/],
    ["bad URL", [], { KILN_GITHUB_API_URL: "not a url" }, /githubApiURL/],
  ];
  for (const [name, argv, env, message] of bad) {
    test(`rejects ${name} with a clear message`, (t) => {
      t.assert.throws(
        () => parseControllerConfig(argv, env),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError);
          t.assert.match((err as Error).message, message);
          return true;
        },
      );
    });
  }
});
