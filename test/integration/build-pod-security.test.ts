// The Pod Security level Kiln's build pods meet today, checked with the test API server's PodSecurity
// checks (kube's, v1.34): every build pod meets "baseline"; Kiln's own containers (fetch, agent) and
// Deployments meet "restricted"; the user's build and service containers meet it only when the pipeline
// names a non-root user for them. A namespace labelled as manifests/base/namespace.yaml (enforce
// baseline, warn restricted) admits the pod with kube's warning; enforce=restricted refuses it.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import type { V1Pod } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { buildPod } from "../../controllers/build/build-pod.ts";
import type { PodPipeline } from "../../controllers/build/pipeline.ts";
import {
  aggregate,
  forbiddenDetail,
  newEvaluator,
} from "../../stand-ins/apiserver/pod-security/evaluator.ts";
import type { PodMetadata, PodSpec } from "../../stand-ins/apiserver/pod-security/pod-spec.ts";
import { startTestApiServer, type TestApiServer } from "../../stand-ins/apiserver/server.ts";
import type { KubeObject } from "../../stand-ins/apiserver/storage.ts";
import { sampleBuild, sampleConfig, sampleRepository } from "../fixtures/build.ts";

const MANIFESTS = resolve(import.meta.dirname, "../../manifests/base");
const evaluator = newEvaluator();

function verdict(level: "baseline" | "restricted", metadata: unknown, spec: unknown): string {
  const r = aggregate(
    evaluator.evaluatePod({ level, version: "latest" }, metadata as PodMetadata, spec as PodSpec),
  );
  return r.allowed ? "allowed" : forbiddenDetail(r);
}

const podFor = (pipeline: PodPipeline): V1Pod =>
  buildPod(
    sampleBuild(),
    sampleRepository({ tokenSecretRef: { name: "gh", key: "token" } }),
    pipeline,
    sampleConfig,
  );

const ROOT_BUILD =
  'unrestricted capabilities (container "build" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "build" must set securityContext.runAsNonRoot=true)';

describe("Kiln's build pod today", () => {
  const cases: [string, PodPipeline, string][] = [
    ["the image's own user", { image: "node:24", services: [] }, ROOT_BUILD],
    [
      "with a service as its image's user",
      { image: "node:24", services: [{ name: "postgres", image: "postgres:17", ports: [5432] }] },
      'unrestricted capabilities (containers "service-postgres", "build" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or containers "service-postgres", "build" must set securityContext.runAsNonRoot=true)',
    ],
    [
      "user: 0",
      { image: "node:24", user: { uid: 0 }, services: [] },
      `${ROOT_BUILD}, runAsUser=0 (container "build" must not set runAsUser=0)`,
    ],
    [
      "non-root build and services",
      {
        image: "node:24",
        user: { uid: 1000 },
        services: [{ name: "pg", image: "postgres:17", user: { uid: 999 } }],
      },
      "allowed",
    ],
  ];
  for (const [name, pipeline, restricted] of cases) {
    test(`${name}: baseline; restricted ${restricted === "allowed" ? "too" : "fails for the user's containers"}`, () => {
      const pod = podFor(pipeline);
      assert.equal(verdict("baseline", pod.metadata, pod.spec), "allowed");
      assert.equal(verdict("restricted", pod.metadata, pod.spec), restricted);
    });
  }

  test("Kiln's own containers meet restricted", () => {
    const pod = podFor({ image: "node:24", services: [{ name: "pg", image: "postgres:17" }] });
    const kilnOnly = {
      ...pod.spec,
      initContainers: pod.spec!.initContainers!.filter((c) => c.name === "fetch"),
      containers: pod.spec!.containers.filter((c) => c.name === "agent"),
    };
    assert.equal(kilnOnly.initContainers.length + kilnOnly.containers.length, 2);
    assert.equal(verdict("restricted", pod.metadata, kilnOnly), "allowed");
  });

  test("Kiln's Deployments meet restricted (the kiln namespace warns at restricted)", () => {
    const dir = join(MANIFESTS, "deploy");
    const deployments = readdirSync(dir)
      .flatMap((f) =>
        parseAllDocuments(readFileSync(join(dir, f), "utf8")).map((d) => d.toJS() as KubeObject),
      )
      .filter((o) => o?.kind === "Deployment");
    assert.ok(deployments.length >= 2);
    for (const d of deployments) {
      const template = (d.spec as { template: { metadata: unknown; spec: unknown } }).template;
      assert.equal(verdict("restricted", template.metadata, template.spec), "allowed", d.metadata.name);
    }
  });
});

describe("Kiln's build pod in a namespace labelled as manifests/base/namespace.yaml", () => {
  let server: TestApiServer;
  const labels =
    parseAllDocuments(readFileSync(join(MANIFESTS, "namespace.yaml"), "utf8"))
      .map((d) => d.toJS() as KubeObject)
      .find((o) => o?.kind === "Namespace")!.metadata.labels ?? {};

  before(async () => {
    server = await startTestApiServer({ namespaces: [] });
  });
  after(() => server.close());

  const t = (resource: string) => server.registry.find("", "v1", resource)!;
  async function namespaceWith(name: string, nsLabels: Record<string, string>): Promise<void> {
    server.objects.create(t("namespaces"), undefined, { metadata: { name, labels: nsLabels } });
    server.objects.create(t("serviceaccounts"), name, {
      metadata: { name: sampleConfig.agentServiceAccount },
    });
  }
  const create = (namespace: string) => {
    const pod = podFor({ image: "node:24", services: [] }) as KubeObject;
    return server.objects.create(t("pods"), namespace, { ...pod, metadata: { ...pod.metadata, namespace } });
  };

  test("the manifest asks for enforce baseline, warn restricted", () => {
    assert.equal(labels["pod-security.kubernetes.io/enforce"], "baseline");
    assert.equal(labels["pod-security.kubernetes.io/warn"], "restricted");
  });

  test("admitted, with kube's restricted warning", async () => {
    await namespaceWith("builds", labels);
    const result = create("builds");
    assert.deepEqual(result.warnings, [`would violate PodSecurity "restricted:latest": ${ROOT_BUILD}`]);
  });

  test("refused where restricted is enforced, in the words start-decision.ts looks for", async () => {
    await namespaceWith("strict", { "pod-security.kubernetes.io/enforce": "restricted" });
    assert.throws(
      () => create("strict"),
      (e: Error & { code?: number }) =>
        e.code === 403 &&
        e.message ===
          `pods "${sampleBuild().metadata.name}-pod" is forbidden: violates PodSecurity "restricted:latest": ${ROOT_BUILD}`,
    );
  });
});
