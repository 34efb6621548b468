// Reads the pipeline file at exactly the build's commit: from GitHub's contents API when the repository
// lives on GitHub (or GitHub Enterprise), otherwise by a shallow fetch of the clone URL with git.
// Parsed results are cached per commit: a commit's content never changes.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { BuildReason } from "../../api/reasons.ts";
import { cloneURL, type Repository } from "../../api/repository.ts";
import type { GitHubClients } from "../../lib/github.ts";
import type { PodPipeline } from "./pipeline.ts";

const run = promisify(execFile);

export type ManifestText = { found: true; text: string } | { found: false; message: string };

export type ParsedManifest =
  | { ok: true; pipeline: PodPipeline }
  | { ok: false; reason: BuildReason; message: string };

/** The agent's parser, adapted: text and file name in, a pipeline or a located error message out. */
export type ManifestParser = (text: string, file: string) => ParsedManifest;

export interface ManifestSourceOptions {
  githubApiURL: string;
  /** The process's GitHub clients (lib/github.ts): rate limits and retries, one client per root and token. */
  github: GitHubClients;
  parse: ManifestParser;
  /** The repository's token, when it has one (read from its Secret). */
  token: (repository: Repository) => Promise<string | undefined>;
  cacheSize?: number;
}

/** Whether the repository is served by the GitHub (Enterprise) API it names. */
export function onGitHub(repository: Repository, githubApiURL: string): boolean {
  const clone = repository.spec.cloneURL;
  if (clone === undefined) return true;
  let cloneHost: string;
  try {
    cloneHost = new URL(clone).host;
  } catch {
    return false;
  }
  const apiHost = new URL(repository.spec.github.apiURL ?? githubApiURL).host;
  return cloneHost === apiHost || `api.${cloneHost}` === apiHost;
}

export async function readWithGit(
  url: string,
  sha: string,
  path: string,
  token?: string,
): Promise<ManifestText> {
  const dir = await mkdtemp(join(tmpdir(), "kiln-manifest-"));
  // The token goes through git's environment config, never into argv or the URL.
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: "0" };
  if (token) {
    env.GIT_CONFIG_COUNT = "1";
    env.GIT_CONFIG_KEY_0 = "http.extraHeader";
    env.GIT_CONFIG_VALUE_0 = `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}`;
  }
  try {
    await run("git", ["init", "-q", dir], { env });
    await run("git", ["-C", dir, "fetch", "-q", "--depth=1", "--no-tags", url, sha], {
      env,
      timeout: 120_000,
    });
    try {
      const { stdout } = await run("git", ["-C", dir, "show", `${sha}:${path}`], { env, maxBuffer: 1 << 20 });
      return { found: true, text: stdout };
    } catch (err) {
      const stderr = String((err as { stderr?: string }).stderr ?? "");
      if (/does not exist|exists on disk, but not in/.test(stderr)) {
        return { found: false, message: `${path} not found at commit ${sha.slice(0, 7)}` };
      }
      throw err;
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function readWithGitHub(
  github: GitHubClients,
  repository: Repository,
  githubApiURL: string,
  sha: string,
  path: string,
  token?: string,
): Promise<ManifestText> {
  const octokit = github.for({
    baseUrl: repository.spec.github.apiURL ?? githubApiURL,
    ...(token ? { token } : {}),
  });
  try {
    const response = await octokit.rest.repos.getContent({
      owner: repository.spec.github.owner,
      repo: repository.spec.github.name,
      path,
      ref: sha,
    });
    const data = response.data as { type?: string; content?: string; encoding?: string };
    if (Array.isArray(response.data) || data.type !== "file" || data.content === undefined) {
      return { found: false, message: `${path} at commit ${sha.slice(0, 7)} is not a file` };
    }
    return {
      found: true,
      text: Buffer.from(data.content, (data.encoding as BufferEncoding) ?? "base64").toString("utf8"),
    };
  } catch (err) {
    if ((err as { status?: number }).status === 404) {
      return { found: false, message: `${path} not found at commit ${sha.slice(0, 7)}` };
    }
    throw err;
  }
}

export class ManifestSource {
  readonly #o: ManifestSourceOptions;
  readonly #cache = new Map<string, Promise<ParsedManifest>>();

  constructor(options: ManifestSourceOptions) {
    this.#o = options;
  }

  /** The parsed pipeline of the repository at sha; network failures throw (the caller retries). */
  read(repository: Repository, sha: string): Promise<ParsedManifest> {
    const path = repository.spec.manifest;
    const key = `${cloneURL(repository)}@${sha}:${path}`;
    const cached = this.#cache.get(key);
    if (cached) {
      // Refresh its place in the LRU order.
      this.#cache.delete(key);
      this.#cache.set(key, cached);
      return cached;
    }
    const pending = this.#load(repository, sha, path);
    this.#cache.set(key, pending);
    pending.catch(() => this.#cache.delete(key));
    const max = this.#o.cacheSize ?? 500;
    while (this.#cache.size > max) this.#cache.delete(this.#cache.keys().next().value!);
    return pending;
  }

  async #load(repository: Repository, sha: string, path: string): Promise<ParsedManifest> {
    const token = await this.#o.token(repository);
    const text = onGitHub(repository, this.#o.githubApiURL)
      ? await readWithGitHub(this.#o.github, repository, this.#o.githubApiURL, sha, path, token)
      : await readWithGit(cloneURL(repository), sha, path, token);
    if (!text.found) return { ok: false, reason: "ManifestNotFound", message: text.message };
    return this.#o.parse(text.text, path);
  }
}
