// A repository controller told to watch some namespaces leaves Repositories elsewhere alone: no
// finalizer, no status. Two namespaces make it one cluster-wide watch filtered by the informer.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { API_VERSION, FINALIZERS, RESOURCES } from "../../api/group.ts";
import type { Repository } from "../../api/repository.ts";
import {
  createRepositoryController,
  type RepositoryController,
} from "../../controllers/repository/controller.ts";
import { KubeClient, resourcePath } from "../../lib/kube.ts";
import { silentLogger } from "../../lib/log.ts";
import { startTestCluster, type TestCluster } from "../../stand-ins/cluster/start.ts";
import { waitFor } from "../wait-for.ts";

let cluster: TestCluster;
let client: KubeClient;
let controller: RepositoryController;

const path = (namespace: string, name?: string) =>
  resourcePath(API_VERSION, RESOURCES.Repository.plural, namespace, name);
// Neither token nor webhook: the controller settles it as NotConfigured without calling GitHub.
const create = (namespace: string, name: string) =>
  client.create(path(namespace), {
    apiVersion: API_VERSION,
    kind: "Repository",
    metadata: { name },
    spec: { github: { owner: "acme", name } },
  });
const settled = (namespace: string, name: string) =>
  waitFor(`${namespace}/${name} reconciled`, async () => {
    const repository = await client.get<Repository>(path(namespace, name));
    return repository.status?.conditions?.some((c) => c.type === "WebhookReady") ? repository : undefined;
  });

before(async () => {
  cluster = await startTestCluster();
  client = new KubeClient(cluster.kubeConfig);
  controller = createRepositoryController({
    kubeConfig: cluster.kubeConfig,
    client,
    log: silentLogger(),
    namespaces: ["kiln", "team-a"],
    intervalMs: 60_000,
  });
});
after(async () => {
  await controller?.stop();
  client?.close();
  await cluster?.stop();
});

test("Repositories outside the watched namespaces get neither finalizer nor status", {
  timeout: 30_000,
}, async () => {
  // One listed at start, one arriving by watch, in each place.
  await create("default", "listed");
  await create("kiln", "listed");
  await controller.start();
  await settled("kiln", "listed");
  await create("default", "watched");
  await create("kiln", "watched");
  const inScope = await settled("kiln", "watched");
  assert.deepEqual(inScope.metadata.finalizers, [FINALIZERS.webhook]);
  for (const name of ["listed", "watched"]) {
    const outside = await client.get<Repository>(path("default", name));
    assert.equal(outside.metadata.finalizers, undefined, `default/${name} has no finalizer`);
    assert.equal(outside.status, undefined, `default/${name} has no status`);
  }
});
