// Shared set-up of the build controller's integration tests: a test cluster, a local git repository
// with a .kiln.yaml, a Repository pointing at it (file:// clone URL), and the controller in-process.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1Pod } from "@kubernetes/client-node";
import type { Build, BuildInput } from "../../api/build.ts";
import { API_VERSION } from "../../api/group.ts";
import type { RepositoryInput } from "../../api/repository.ts";
import { buildModule } from "../../controllers/build/module.ts";
import { type ControllerConfigInput, controllerConfig } from "../../controllers/config.ts";
import { type RunningControllers, runControllers } from "../../controllers/main.ts";
import { KubeClient, resourcePath } from "../../lib/kube.ts";
import { createLogger } from "../../lib/log.ts";
import { startLocalStore } from "../../sandbox/local-store.ts";
import { KILN_IMAGE } from "../../scripts/image-inputs.ts";
import { grantBuildAgent } from "../../stand-ins/cluster/build-agent-access.ts";
import { startTestCluster, type TestCluster } from "../../stand-ins/cluster/start.ts";
import { GitRepo } from "../../stand-ins/git-repo.ts";
import type { RunningStore } from "../../store/main.ts";
import { waitFor } from "../wait-for.ts";

export { GitRepo };

export const NS = "default";
export const buildPath = (name: string) => resourcePath(API_VERSION, "builds", NS, name);
export const podPath = (name?: string) => resourcePath("v1", "pods", NS, name);

export const PIPELINE =
  "image: node:24\nsteps:\n  - {name: hello, run: echo hello}\n  - {name: test, run: 'true'}\n";

export interface Harness {
  cluster: TestCluster;
  /** `kiln store` beside the cluster, when asked for: build pods ship their logs to it. */
  store: RunningStore | undefined;
  client: KubeClient;
  repo: GitRepo;
  controllers: RunningControllers | undefined;
  startController(overrides?: ControllerConfigInput): Promise<RunningControllers>;
  stopController(): Promise<void>;
  createRepository(name: string, spec?: Partial<RepositoryInput["spec"]>): Promise<void>;
  createBuild(
    name: string,
    options: { sha: string; branch?: string; repository?: string; spec?: Partial<BuildInput["spec"]> },
  ): Promise<Build>;
  getBuild(name: string): Promise<Build | undefined>;
  getPod(name: string): Promise<V1Pod | undefined>;
  waitPhase(name: string, phase: string, timeoutMs?: number): Promise<Build>;
  setPodStatus(podName: string, status: V1Pod["status"]): Promise<void>;
  reportSteps(build: string, steps: NonNullable<Build["status"]>["steps"]): Promise<void>;
  stop(): Promise<void>;
}

export async function startHarness(options: { kubelet?: boolean; store?: boolean } = {}): Promise<Harness> {
  const cluster = await startTestCluster({ kubelet: options.kubelet ?? false });
  const storeDir = options.store ? await mkdtemp(join(tmpdir(), "kiln-harness-store-")) : undefined;
  const store = storeDir
    ? await startLocalStore(cluster, {
        dir: storeDir,
        log: createLogger("store", {
          level: process.env.KILN_TEST_LOG ?? "silent",
          destination: process.stderr,
        }),
      })
    : undefined;
  const client = new KubeClient(cluster.kubeConfig);
  const repo = await GitRepo.create();
  const cloneURL = options.kubelet ? await repo.serveHttp() : repo.url;
  // The agent's account and RBAC, as the install and the repository controller (not run here) give it.
  grantBuildAgent(cluster.server, NS);
  const notFound = (err: unknown) => {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  };
  const h: Harness = {
    cluster,
    store,
    client,
    repo,
    controllers: undefined,
    async startController(overrides = {}) {
      await h.stopController();
      const config = controllerConfig.parse({
        kubeconfig: cluster.kubeconfigPath,
        namespaces: [NS],
        metricsHost: "127.0.0.1",
        metricsPort: 0,
        githubApiURL: "http://127.0.0.1:9/",
        image: KILN_IMAGE,
        workers: 4,
        ...(store ? { storeURL: store.url } : {}),
        ...overrides,
        leaderElection: { enabled: false, identity: "test-controller", ...overrides.leaderElection },
      });
      h.controllers = await runControllers(config, {
        kubeConfig: cluster.kubeConfig,
        log: createLogger("controller", {
          level: process.env.KILN_TEST_LOG ?? "silent",
          destination: process.stderr,
        }),
        modules: [buildModule],
      });
      return h.controllers;
    },
    async stopController() {
      await h.controllers?.stop();
      h.controllers = undefined;
    },
    async createRepository(name, spec = {}) {
      const body: RepositoryInput = {
        apiVersion: API_VERSION,
        kind: "Repository",
        metadata: { name, namespace: NS },
        spec: { github: { owner: "acme", name }, cloneURL, ...spec },
      };
      await client.create(resourcePath(API_VERSION, "repositories", NS), body);
    },
    async createBuild(name, o) {
      const body: BuildInput = {
        apiVersion: API_VERSION,
        kind: "Build",
        metadata: { name, namespace: NS, labels: { "kiln.dev/repository": o.repository ?? "app" } },
        spec: {
          repository: o.repository ?? "app",
          revision: { sha: o.sha, ref: `refs/heads/${o.branch ?? "main"}`, branch: o.branch ?? "main" },
          trigger: { event: "manual" },
          ...o.spec,
        },
      };
      return client.create<Build>(resourcePath(API_VERSION, "builds", NS), body);
    },
    getBuild: (name) => client.get<Build>(buildPath(name)).catch(notFound),
    getPod: (name) => client.get<V1Pod>(podPath(name)).catch(notFound),
    waitPhase: (name, phase, timeoutMs) =>
      waitFor(
        `build ${name} to be ${phase}`,
        async () => {
          const b = await h.getBuild(name);
          return b?.status?.phase === phase ? b : undefined;
        },
        timeoutMs,
      ),
    async setPodStatus(podName, status) {
      await client.mergePatch(`${podPath(podName)}/status`, { status });
    },
    async reportSteps(build, steps) {
      // What the agent does: a merge patch of status.steps only.
      await client.mergePatch(`${buildPath(build)}/status`, { status: { steps } });
    },
    async stop() {
      await h.stopController();
      client.close();
      await store?.close();
      await cluster.stop();
      await repo.remove();
      if (storeDir) await rm(storeDir, { recursive: true, force: true });
    },
  };
  return h;
}

const now = () => new Date().toISOString();

/** Pod statuses as a kubelet reports them. */
export const podStatuses = {
  running: (): V1Pod["status"] => ({
    phase: "Running",
    startTime: now() as unknown as Date,
    containerStatuses: [
      {
        name: "build",
        ready: true,
        restartCount: 0,
        image: "node:24",
        imageID: "",
        state: { running: { startedAt: now() as unknown as Date } },
      },
      {
        name: "agent",
        ready: true,
        restartCount: 0,
        image: "kiln",
        imageID: "",
        state: { running: { startedAt: now() as unknown as Date } },
      },
    ],
  }),
  finished: (
    phase: "Succeeded" | "Failed",
    agentExit: number,
    extra: Partial<NonNullable<V1Pod["status"]>> = {},
  ): V1Pod["status"] => ({
    phase,
    containerStatuses: [
      {
        name: "build",
        ready: false,
        restartCount: 0,
        image: "node:24",
        imageID: "",
        state: { terminated: { exitCode: agentExit } },
      },
      {
        name: "agent",
        ready: false,
        restartCount: 0,
        image: "kiln",
        imageID: "",
        state: { terminated: { exitCode: agentExit } },
      },
    ],
    ...extra,
  }),
};

export { waitFor };
