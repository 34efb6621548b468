// Shared set-up of the build controller's integration tests: a test cluster, a local git repository
// with a .kiln.yaml, a Repository pointing at it (file:// clone URL), and the controller in-process.
import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { promisify } from "node:util";
import type { V1Pod } from "@kubernetes/client-node";
import type { Build, BuildInput } from "../../api/build.ts";
import { API_VERSION } from "../../api/group.ts";
import type { RepositoryInput } from "../../api/repository.ts";
import { type ControllerConfigInput, controllerConfig } from "../../controllers/config.ts";
import { buildModule, type RunningControllers, runControllers } from "../../controllers/main.ts";
import { KubeClient, resourcePath } from "../../lib/kube.ts";
import { createLogger } from "../../lib/log.ts";
import { startTestCluster, type TestCluster } from "../cluster/start.ts";

const run = promisify(execFile);

export const NS = "default";
export const buildPath = (name: string) => resourcePath(API_VERSION, "builds", NS, name);
export const podPath = (name?: string) => resourcePath("v1", "pods", NS, name);

export class GitRepo {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }
  get url(): string {
    return `file://${this.dir}`;
  }
  static async create(base = tmpdir()): Promise<GitRepo> {
    const dir = await mkdtemp(join(base, "kiln-build-repo-"));
    await run("git", ["init", "-q", "-b", "main", dir]);
    await run("git", ["-C", dir, "config", "user.email", "ci@example.com"]);
    await run("git", ["-C", dir, "config", "user.name", "CI"]);
    return new GitRepo(dir);
  }
  /** Writes files (null deletes) and commits; returns the sha. */
  async commit(files: Record<string, string | null>, message = "change"): Promise<string> {
    for (const [path, content] of Object.entries(files)) {
      const full = join(this.dir, path);
      if (content === null) await rm(full, { force: true });
      else {
        await mkdir(dirname(full), { recursive: true });
        await writeFile(full, content);
      }
    }
    await run("git", ["-C", this.dir, "add", "-A"]);
    await run("git", ["-C", this.dir, "commit", "-q", "--allow-empty", "-m", message]);
    const { stdout } = await run("git", ["-C", this.dir, "rev-parse", "HEAD"]);
    return stdout.trim();
  }
  #server: Server | undefined;

  /**
   * Serves the repository over smart HTTP (git http-backend) on 127.0.0.1 and returns its clone URL. Pods
   * of the process kubelet fetch from here: a file:// URL would be another user's repository to their
   * non-root fetch container, which git refuses for local transports whatever the safe.directory env says.
   */
  async serveHttp(): Promise<string> {
    const root = dirname(this.dir);
    this.#server = createServer((req, res) => {
      const u = new URL(req.url!, "http://x");
      const cgi = spawn("git", ["http-backend"], {
        env: {
          ...process.env,
          GIT_PROJECT_ROOT: root,
          GIT_HTTP_EXPORT_ALL: "1",
          PATH_INFO: u.pathname,
          QUERY_STRING: u.search.slice(1),
          REQUEST_METHOD: req.method,
          CONTENT_TYPE: req.headers["content-type"] ?? "",
          GIT_PROTOCOL: String(req.headers["git-protocol"] ?? ""),
          REMOTE_ADDR: "127.0.0.1",
        },
      });
      req.pipe(cgi.stdin);
      let head = Buffer.alloc(0);
      let body = false;
      cgi.stdout.on("data", (chunk: Buffer) => {
        if (body) return void res.write(chunk);
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end === -1) return;
        body = true;
        let status = 200;
        for (const line of head.subarray(0, end).toString().split("\r\n")) {
          const [k, ...v] = line.split(":");
          if (k!.toLowerCase() === "status") status = Number.parseInt(v.join(":").trim(), 10);
          else res.setHeader(k!, v.join(":").trim());
        }
        res.writeHead(status);
        res.write(head.subarray(end + 4));
      });
      cgi.on("close", () => res.end());
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, "127.0.0.1", resolve));
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/${basename(this.dir)}`;
  }

  async remove(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((resolve) => (this.#server ? this.#server.close(resolve) : resolve(undefined)));
    await rm(this.dir, { recursive: true, force: true });
  }
}

export const PIPELINE =
  "image: node:24\nsteps:\n  - {name: hello, run: echo hello}\n  - {name: test, run: 'true'}\n";

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 8000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface Harness {
  cluster: TestCluster;
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

export async function startHarness(options: { kubelet?: boolean } = {}): Promise<Harness> {
  const cluster = await startTestCluster({ kubelet: options.kubelet ?? false });
  const client = new KubeClient(cluster.kubeConfig);
  const repo = await GitRepo.create();
  const cloneURL = options.kubelet ? await repo.serveHttp() : repo.url;
  // The agent's service account, as manifests/rbac/build-agent.yaml installs it in build namespaces.
  await client.create(resourcePath("v1", "serviceaccounts", NS), {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "kiln-build", namespace: NS },
    automountServiceAccountToken: false,
  });
  const notFound = (err: unknown) => {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  };
  const h: Harness = {
    cluster,
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
        workers: 4,
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
      await cluster.stop();
      await repo.remove();
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
