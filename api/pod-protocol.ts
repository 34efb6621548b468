// The contract between the build pod's three Kiln parts: the init container (`kiln fetch`), the
// agent sidecar (`kiln agent`) and the runner script in the user's build container. The pod builder
// imports these constants and pure helpers; the agent and the runner implement them.
//
// Hand-off (no polling anywhere): the init container creates five FIFOs in the shared /kiln dir.
//   next   agent → runner   one command per line:  `step <n>` | `exit <code>`
//   ctl    agent → runner   one stop per line:     `TERM <n>` | `KILL <n>` (stop step n's processes)
//   events runner → agent   one event per line:    `ready <pid>` | `start <n>` | `done <n> <exitCode>`
//   echo   agent → runner   bytes the runner copies to the build container's stdout (`kubectl logs -c build`)
//   out    runner → agent   the running step's stdout+stderr; its end of file ends the step's output
// The step script itself is the file `steps/<n>.sh` the agent writes first (env exports, then the
// user's `run`); the runner runs it with `sh -e` in /workspace: one fork/exec per step, the floor.
// The runner leads its process group (it is the container's PID 1); steps stay in that group, so
// stopping them is signalling the group minus the runner's own helpers (Linux /proc, no fork).
import { ANNOTATIONS } from "./group.ts";

/** The commit is fetched here; steps run here (an emptyDir shared by the init, build and agent containers). */
export const WORKSPACE_DIR = "/workspace";
/** Runner script, FIFOs and step files (an emptyDir shared by the init, build and agent containers). */
export const KILN_DIR = "/kiln";
/** The runner script's file name inside KILN_DIR. */
export const RUNNER_FILE = "runner.sh";
/** FIFO names inside KILN_DIR (see the header comment for who writes what). */
export const FIFOS = { next: "next", ctl: "ctl", events: "events", out: "out", echo: "echo" } as const;
/** Directory inside KILN_DIR holding the step scripts `<n>.sh`. */
export const STEPS_DIR = "steps";
/** Touching this file inside KILN_DIR (from the build container) resumes a paused build. */
export const RESUME_FILE = "resume";
/** Where the init container reads the git token from (a Secret volume mounted into it only). */
export const GIT_TOKEN_DIR = "/var/run/secrets/kiln.dev/git";
export const GIT_TOKEN_FILE = `${GIT_TOKEN_DIR}/token`;
/**
 * The agent's token for `kiln store`: a projected token of the pod's account with the audience
 * STORE_AUDIENCE, bound to the pod, mounted into the agent container only (user code never sees it).
 */
export const STORE_TOKEN_DIR = "/var/run/secrets/kiln.dev/store";
export const STORE_TOKEN_FILE = `${STORE_TOKEN_DIR}/token`;
/**
 * The values of the build's secrets, for the agent alone, to mask them in the log: a projected volume of
 * the Secrets' keys (one file per `.kiln.yaml` entry, named by its `env`), mounted read-only into the
 * agent container only. The kubelet reads the Secrets; the agent's account may not (it has no Secret
 * access). The build container gets the same values as env vars through `secretKeyRef`.
 */
export const SECRETS_DIR = "/var/run/secrets/kiln.dev/secrets";
/** The agent writes a one-line summary of the pipeline here (the container's terminationMessagePath). */
export const TERMINATION_MESSAGE_PATH = "/dev/termination-log";

/** Container names in the build pod. */
export const CONTAINERS = { fetch: "fetch", build: "build", agent: "agent" } as const;

/**
 * What the agent writes into the build container's log before each step's output: an empty line, then
 * `==> <step>`. `kubectl logs -c build` reads well with it, and `kiln logs --step` splits the log by it.
 */
export const STEP_HEADER_PREFIX = "==> ";
export function stepHeader(step: string): string {
  return `\n${STEP_HEADER_PREFIX}${step}\n`;
}

/** When the manifest cannot be read or is invalid, the agent records one step of this name as Failed. */
export const MANIFEST_STEP = ".kiln.yaml";

/** Exit codes of the agent (and of the runner, which exits with the code the agent hands it). */
export const EXIT = { succeeded: 0, failed: 1, invalidManifest: 2, cancelled: 130, agentLost: 125 } as const;

/** Environment variables `kiln agent` reads. */
export const AGENT_ENV = {
  buildName: "KILN_BUILD_NAME",
  namespace: "KILN_NAMESPACE",
  podName: "KILN_POD_NAME",
  /** Path of the pipeline file relative to the workspace (Repository.spec.manifest). */
  manifest: "KILN_MANIFEST",
  /** Branch of the build, for steps' `when.branches`; empty for tags. */
  branch: "KILN_BRANCH",
  /** "true" to keep the build container alive at a failed step (Build.spec.pauseOnFailure). */
  pauseOnFailure: "KILN_PAUSE_ON_FAILURE",
  /** "true" for pull requests from forks: secrets are never given to them. */
  fork: "KILN_FORK",
  /** The Build's Repository (the store keeps caches per repository). */
  repository: "KILN_REPOSITORY",
  /** The repository's default branch: where a cache restore looks after the build's own branch. */
  defaultBranch: "KILN_DEFAULT_BRANCH",
  /** Override of CACHE_MOUNT_DIR (api/cache.ts), where the agent sees cache paths outside the workspace. */
  cacheDir: "KILN_CACHE_DIR",
  /** Where `kiln store` listens; unset: logs stay in the pod, caches are not used. */
  storeURL: "KILN_STORE_URL",
  /** Override of STORE_TOKEN_FILE (tests). */
  storeTokenFile: "KILN_STORE_TOKEN_FILE",
  /** Override of SECRETS_DIR (tests). */
  secretsDir: "KILN_SECRETS_DIR",
  /** Overrides of the two mount paths (tests use temporary directories). */
  kilnDir: "KILN_DIR",
  workspace: "KILN_WORKSPACE",
} as const;

/** Environment variables the runner reads (only the path overrides; it needs nothing else). */
export const RUNNER_ENV = { kilnDir: "KILN_DIR", workspace: "KILN_WORKSPACE" } as const;

/** A Kubernetes EnvVar as the pod builder writes it (structurally a client-node V1EnvVar). */
export type EnvVar =
  | { name: string; value: string }
  | { name: string; valueFrom: { fieldRef: { fieldPath: string } } };

export interface FetchOptions {
  /** The repository's clone URL (https://…, or file://… in tests). Never carries credentials. */
  cloneURL: string;
  /** The full 40-hex commit sha. */
  sha: string;
  /** Whether a token Secret is mounted at GIT_TOKEN_FILE (private repositories). */
  withToken: boolean;
}

/**
 * Arguments of the `kiln` CLI for the init container: shallow-fetch exactly `sha` into /workspace,
 * then copy the runner into /kiln and create the FIFOs. The token, if any, is read from
 * GIT_TOKEN_FILE and handed to git through its environment (http.extraHeader), never in the URL.
 */
export function fetchContainerArgs(options: FetchOptions): string[] {
  const args = ["fetch", "--url", options.cloneURL, "--sha", options.sha];
  args.push("--workspace", WORKSPACE_DIR, "--kiln-dir", KILN_DIR);
  if (options.withToken) args.push("--token-file", GIT_TOKEN_FILE);
  return args;
}

/** Arguments of the `kiln` CLI for the agent sidecar; it reads everything else from AGENT_ENV. */
export function agentContainerArgs(): string[] {
  return ["agent"];
}

/** The build container's command: the runner, from the shared dir (any image with /bin/sh works). */
export function runnerCommand(): string[] {
  return ["/bin/sh", `${KILN_DIR}/${RUNNER_FILE}`];
}

export interface AgentEnvOptions {
  buildName: string;
  /** Defaults to the pod's namespace via the downward API. */
  namespace?: string;
  /** Repository.spec.manifest; defaults to .kiln.yaml. */
  manifest?: string;
  branch?: string;
  pauseOnFailure?: boolean;
  fork?: boolean;
  storeURL?: string;
  /** The Build's Repository and its default branch (caches). */
  repository?: string;
  defaultBranch?: string;
}

/** The agent container's env. The pod's own name and namespace come from the downward API. */
export function agentEnv(options: AgentEnvOptions): EnvVar[] {
  const env: EnvVar[] = [
    { name: AGENT_ENV.buildName, value: options.buildName },
    options.namespace
      ? { name: AGENT_ENV.namespace, value: options.namespace }
      : { name: AGENT_ENV.namespace, valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
    { name: AGENT_ENV.podName, valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    { name: AGENT_ENV.manifest, value: options.manifest ?? ".kiln.yaml" },
    { name: AGENT_ENV.pauseOnFailure, value: String(options.pauseOnFailure ?? false) },
    { name: AGENT_ENV.fork, value: String(options.fork ?? false) },
  ];
  if (options.branch !== undefined) env.push({ name: AGENT_ENV.branch, value: options.branch });
  if (options.storeURL !== undefined) env.push({ name: AGENT_ENV.storeURL, value: options.storeURL });
  if (options.repository !== undefined) env.push({ name: AGENT_ENV.repository, value: options.repository });
  if (options.defaultBranch !== undefined)
    env.push({ name: AGENT_ENV.defaultBranch, value: options.defaultBranch });
  return env;
}

/**
 * The build container's own env. The workspace belongs to the fetch container's user and the build
 * container may run as another (often root): without this git refuses the checkout ("dubious
 * ownership"). Command-line scope, given through the environment, so it also holds for the steps' own
 * git commands.
 */
export function buildContainerEnv(): { name: string; value: string }[] {
  return [{ name: "GIT_CONFIG_PARAMETERS", value: `'safe.directory'='${WORKSPACE_DIR}'` }];
}

/** The user a build or service container runs as: a uid and maybe a gid (unset: the image's own). */
export interface ContainerUser {
  uid: number;
  gid?: number;
}

/** A user container's securityContext (structurally a client-node V1SecurityContext). */
export interface UserSecurityContext {
  allowPrivilegeEscalation: false;
  capabilities: { drop: ("NET_RAW" | "ALL")[] };
  runAsNonRoot?: true;
  runAsUser?: number;
  runAsGroup?: number;
}

/**
 * What a user container (the build, a service) may do: the image's user with the runtime's default
 * capabilities minus NET_RAW (Pod Security "baseline": most CI images start as root and their steps
 * expect to apt-get install or chown), or the pipeline's user, with no capabilities at all when it is
 * not root. No privilege escalation either way. The build pod and `kiln run --image` both apply it.
 */
export function userSecurity(user: ContainerUser | undefined): UserSecurityContext {
  const base = { allowPrivilegeEscalation: false as const };
  if (user === undefined) return { ...base, capabilities: { drop: ["NET_RAW"] } };
  const ids = { runAsUser: user.uid, ...(user.gid !== undefined && { runAsGroup: user.gid }) };
  if (user.uid === 0) return { ...base, capabilities: { drop: ["NET_RAW"] }, ...ids };
  return { ...base, capabilities: { drop: ["ALL"] }, runAsNonRoot: true, ...ids };
}

/** Volumes (emptyDirs) and where each container mounts them. */
export const VOLUMES = { workspace: "workspace", kiln: "kiln" } as const;
export function volumeMounts(): { name: string; mountPath: string }[] {
  return [
    { name: VOLUMES.workspace, mountPath: WORKSPACE_DIR },
    { name: VOLUMES.kiln, mountPath: KILN_DIR },
  ];
}

/**
 * The step record message of a paused build: how to get in, and the two ways out. The annotation
 * resumes when its value changes (so the same Build can be paused and resumed more than once).
 */
export function pauseMessage(options: {
  pod: string;
  namespace: string;
  build: string;
  deadline: string;
  reason: string;
}): string {
  const { pod, namespace, build } = options;
  return (
    `${options.reason} Debug with: kubectl exec -it ${pod} -c ${CONTAINERS.build} -n ${namespace} -- sh` +
    ` — resume with: kubectl annotate --overwrite build ${build} -n ${namespace} ${ANNOTATIONS.resume}="$(date +%s)"` +
    ` (or run \`touch ${KILN_DIR}/${RESUME_FILE}\` inside the container); the pause ends by itself at ${options.deadline}.`
  );
}
