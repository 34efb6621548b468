// The store's integration world: the test API server with the store's own RBAC from the install
// (manifests/base/rbac/store.yaml, applied with kubectl) and a kubeconfig holding the kiln-store
// ServiceAccount's token, so the store checks tokens exactly as far as its install lets it; build pods
// with their projected tokens (audience kiln-store, bound to the pod); readers; and an s3rver on 127.0.0.1
// for the S3 backend, made as atomic as S3 (makeS3rverAtomic).
import { execFile } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { API_VERSION } from "../../api/group.ts";
import { STORE_AUDIENCE } from "../../api/store-protocol.ts";
import { KubeClient, resourcePath } from "../../lib/kube.ts";
import { isAlreadyExists } from "../../lib/kube-errors.ts";
import { type Logger, silentLogger } from "../../lib/log.ts";
import { writeKubeconfig } from "../../stand-ins/cluster/kubeconfig.ts";
import { startTestCluster, type TestCluster } from "../../stand-ins/cluster/start.ts";
import { parseStoreConfig } from "../../store/config.ts";
import { type RunningStore, startStore } from "../../store/main.ts";

const root = resolve(import.meta.dirname, "../..");
const kubectl = resolve(root, ".tools/bin/kubectl");
export const SHA = "4f2c1a9e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a39";
export const BUCKET = "kiln-test";
export const S3_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

export interface StoreWorld {
  cluster: TestCluster;
  admin: KubeClient;
  /** A kubeconfig with the kiln-store ServiceAccount's token: the store's install RBAC, nothing more. */
  storeKubeconfig: string;
  scratch: string;
  stop(): Promise<void>;
}

export async function startWorld(): Promise<StoreWorld> {
  const cluster = await startTestCluster();
  const scratch = await mkdtemp(join(tmpdir(), "kiln-store-test-"));
  const admin = new KubeClient(cluster.kubeConfig);
  await ensure(admin, resourcePath("v1", "namespaces"), {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "kiln" },
  });
  await promisify(execFile)(kubectl, [
    "--kubeconfig",
    cluster.kubeconfigPath,
    "apply",
    "-n",
    "kiln",
    "-f",
    resolve(root, "manifests/base/rbac/store.yaml"),
  ]);
  const token = await requestToken(admin, "kiln", "kiln-store", {});
  const storeKubeconfig = join(scratch, "store.kubeconfig");
  await writeKubeconfig(storeKubeconfig, {
    server: cluster.url,
    caPem: cluster.server.caPem,
    token,
    name: "kiln-store",
  });
  return {
    cluster,
    admin,
    storeKubeconfig,
    scratch,
    async stop() {
      admin.close();
      await cluster.stop();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

async function ensure(client: KubeClient, collection: string, body: unknown): Promise<void> {
  try {
    await client.create(collection, body);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}

export async function requestToken(
  client: KubeClient,
  namespace: string,
  account: string,
  spec: { audiences?: string[]; boundObjectRef?: object },
): Promise<string> {
  const answer = await client.create<{ status: { token: string } }>(
    `${resourcePath("v1", "serviceaccounts", namespace, account)}/token`,
    {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: { expirationSeconds: 3600, ...spec },
    },
  );
  return answer.status.token;
}

export interface BuildPodOptions {
  namespace: string;
  build: string;
  repository?: string;
  /** The Build's branch (undefined: a tag's build). */
  branch?: string;
  fork?: boolean;
  /** The ServiceAccount the pod runs as (kiln-build). */
  account?: string;
  audience?: string;
}

/** A Build and its pod (labelled and owned as the build controller makes it), and the agent's token. */
export async function buildPod(
  world: StoreWorld,
  o: BuildPodOptions,
): Promise<{ token: string; podUID: string }> {
  const account = o.account ?? "kiln-build";
  await ensure(world.admin, resourcePath("v1", "namespaces"), {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: o.namespace },
  });
  await ensure(world.admin, resourcePath("v1", "serviceaccounts", o.namespace), {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: account },
  });
  const build = await world.admin.create<{ metadata: { uid: string } }>(
    resourcePath(API_VERSION, "builds", o.namespace),
    {
      apiVersion: API_VERSION,
      kind: "Build",
      metadata: { name: o.build, labels: { "kiln.dev/repository": o.repository ?? "app" } },
      spec: {
        repository: o.repository ?? "app",
        revision: {
          sha: SHA,
          ref: o.branch ? `refs/heads/${o.branch}` : "refs/tags/v1",
          ...(o.branch ? { branch: o.branch } : { tag: "v1" }),
        },
        trigger: o.fork
          ? { event: "pull_request", pullRequest: { number: 7, fork: true } }
          : { event: "push" },
      },
    },
  );
  const pod = await world.admin.create<{ metadata: { name: string; uid: string } }>(
    resourcePath("v1", "pods", o.namespace),
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: `${o.build}-pod`,
        labels: { "kiln.dev/build": o.build },
        ownerReferences: [
          {
            apiVersion: API_VERSION,
            kind: "Build",
            name: o.build,
            uid: build.metadata.uid,
            controller: true,
          },
        ],
      },
      spec: {
        serviceAccountName: account,
        restartPolicy: "Never",
        containers: [{ name: "agent", image: "busybox:1.36", command: ["true"] }],
      },
    },
  );
  const token = await requestToken(world.admin, o.namespace, account, {
    audiences: [o.audience ?? STORE_AUDIENCE],
    boundObjectRef: { apiVersion: "v1", kind: "Pod", name: pod.metadata.name, uid: pod.metadata.uid },
  });
  return { token, podUID: pod.metadata.uid };
}

let readers = 0;

/** A reader's token (audience kiln-store); with `mayRead`, bound to kiln-build-log-reader in the namespace. */
export async function readerToken(world: StoreWorld, namespace: string, mayRead: boolean): Promise<string> {
  const name = `reader-${++readers}`;
  await ensure(world.admin, resourcePath("v1", "namespaces"), {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: namespace },
  });
  await world.admin.create(resourcePath("v1", "serviceaccounts", namespace), {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name },
  });
  if (mayRead) {
    await world.admin.create(resourcePath("rbac.authorization.k8s.io/v1", "rolebindings", namespace), {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "kiln-build-log-reader" },
      subjects: [{ kind: "ServiceAccount", name, namespace }],
    });
  }
  return requestToken(world.admin, namespace, name, { audiences: [STORE_AUDIENCE] });
}

export interface S3Server {
  endpoint: string;
  stop(): Promise<void>;
}

interface S3rverObject {
  bucket: string;
  key: string;
  content: Buffer | Readable;
  metadata: unknown;
}
interface S3rverStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: unknown, md5: string): Promise<void>;
}

/**
 * s3rver writes an object in place and answers before the bytes are on disk, so a reader can see half of
 * one, or a mix of two uploads of one key. S3 shows an object only whole, once its upload completed (read
 * after write, last writer wins), and the store relies on that: made so here, as a stand-in must be at
 * least as strict as the real thing — written to a temporary file beside it, then renamed over it.
 */
function makeS3rverAtomic(require: NodeJS.Require): void {
  const FilesystemStore = require("s3rver/lib/stores/filesystem.js") as {
    prototype: Record<string, unknown>;
  };
  if (FilesystemStore.prototype.atomic) return;
  FilesystemStore.prototype.atomic = true;
  FilesystemStore.prototype.putObject = async function (this: S3rverStore, object: S3rverObject) {
    const path = this.getResourcePath(object.bucket, object.key, "object");
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.${randomUUID()}.partial`;
    const md5 = createHash("md5");
    let size = 0;
    const source = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        md5.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline(source, count, createWriteStream(temp));
      const digest = md5.digest("hex");
      await this.putMetadata(object.bucket, object.key, object.metadata, digest);
      await rename(temp, path);
      return { size, md5: digest };
    } finally {
      await rm(temp, { force: true });
    }
  };
}

/** s3rver on 127.0.0.1 with the test bucket, its files in a fresh directory. */
export async function startS3(scratch: string): Promise<S3Server> {
  type S3rverInstance = { run(): Promise<{ port: number }>; close(): Promise<void> };
  const require = createRequire(import.meta.url);
  makeS3rverAtomic(require);
  const S3rver = require("s3rver") as new (options: object) => S3rverInstance;
  const directory = await mkdtemp(join(scratch, "s3-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: BUCKET }],
  });
  const { port } = await server.run();
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => server.close() };
}

export type BackendChoice =
  | { kind: "files"; dir: string }
  | { kind: "s3"; endpoint: string; prefix?: string };

/** `kiln store` in this process on ports of its own, with the store's kubeconfig and the backend chosen. */
export async function runStore(
  world: StoreWorld,
  backend: BackendChoice,
  extra: string[] = [],
  options: { log?: Logger; now?: () => number; port?: number } = {},
): Promise<RunningStore> {
  const args = [
    "--kubeconfig",
    world.storeKubeconfig,
    "--host",
    "127.0.0.1",
    "--port",
    String(options.port ?? 0),
    "--metrics-host",
    "127.0.0.1",
    "--metrics-port",
    "0",
    ...(backend.kind === "files"
      ? ["--backend", "files", "--dir", backend.dir]
      : [
          "--backend",
          "s3",
          "--s3-bucket",
          BUCKET,
          "--s3-endpoint",
          backend.endpoint,
          "--s3-force-path-style",
          "--s3-part-size",
          "5Mi",
          ...(backend.prefix ? ["--s3-prefix", backend.prefix] : []),
        ]),
    ...extra,
  ];
  return startStore(parseStoreConfig(args, {}), {
    log: options.log ?? silentLogger(),
    s3Credentials: S3_CREDENTIALS,
    ...(options.now ? { now: options.now } : {}),
  });
}
