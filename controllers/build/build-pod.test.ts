import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { GIT_TOKEN_DIR } from "../../agent/pod-protocol.ts";
import { buildPod } from "./build-pod.ts";
import { sampleBuild, sampleConfig, samplePipeline, sampleRepository } from "./fixtures.ts";

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
        { name: "postgres", image: "postgres:17", env: { POSTGRES_PASSWORD: "test" }, ports: [5432] },
        { name: "redis", image: "redis:7", readiness: { command: ["redis-cli", "ping"] } },
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

  test("a pull request from a fork gets no token at all", (t) => {
    const repo = sampleRepository({ tokenSecretRef: { name: "s", key: "token" } });
    const build = sampleBuild({
      spec: { trigger: { event: "pull_request", pullRequest: { number: 7, fork: true } } },
    });
    const pod = podOf(build, repo, samplePipeline, sampleConfig);
    t.assert.equal(pod.spec!.volumes!.filter((v) => v.secret).length, 0);
    assert.ok(!pod.spec!.initContainers![0]!.args!.includes("--token-file"));
  });

  test("long build names still give a valid pod name and label", (t) => {
    const name = `api-${"x".repeat(80)}`;
    const pod = podOf(sampleBuild({ name }), sampleRepository(), samplePipeline, sampleConfig);
    t.assert.equal(pod.metadata!.name, `${name}-pod`);
    const label = pod.metadata!.labels!["kiln.dev/build"]!;
    assert.ok(label.length <= 63 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/i.test(label), label);
    t.assert.equal(pod.spec!.activeDeadlineSeconds, 1800);
  });

  test("the same inputs always give the same pod", (t) => {
    const a = podOf(sampleBuild(), sampleRepository(), samplePipeline, sampleConfig);
    const b = podOf(sampleBuild(), sampleRepository(), samplePipeline, sampleConfig);
    t.assert.deepEqual(a, b);
  });
});
