// A real git repository in a temp dir, committed to by tests and served to build pods over git's smart
// HTTP protocol (git http-backend) on 127.0.0.1, as a git host would serve it.
import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

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
    this.#server = createServer((req, res) => serveGitHttp(root, req, res));
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

export interface GitHttpOptions {
  /** The repository path below the root, when it is not the request's own (an alias URL). */
  pathInfo?: string;
  /** Whether `git push` may write (http.receivepack); off by default, as for an anonymous client. */
  receivePack?: boolean;
  /**
   * Runs after git has answered, before the response ends: a push's client waits until then, so what
   * the host records of the push (refs, commits) is there once `git push` returns.
   */
  beforeEnd?: () => Promise<void>;
}

/**
 * Answers one smart-HTTP request for the repositories under `root` through `git http-backend` (CGI),
 * as a git host does. Resolves once the response has ended.
 */
export function serveGitHttp(
  root: string,
  req: IncomingMessage,
  res: ServerResponse,
  options: GitHttpOptions = {},
): Promise<void> {
  const u = new URL(req.url!, "http://x");
  const cgi = spawn("git", ["http-backend"], {
    env: {
      ...process.env,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: "1",
      // Config through the environment: nothing is written into the served repositories.
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "http.receivepack",
      GIT_CONFIG_VALUE_0: options.receivePack ? "true" : "false",
      PATH_INFO: options.pathInfo ?? u.pathname,
      QUERY_STRING: u.search.slice(1),
      REQUEST_METHOD: req.method,
      CONTENT_TYPE: req.headers["content-type"] ?? "",
      // git sends large negotiation and push bodies gzipped; http-backend inflates them when told.
      HTTP_CONTENT_ENCODING: String(req.headers["content-encoding"] ?? ""),
      GIT_PROTOCOL: String(req.headers["git-protocol"] ?? ""),
      REMOTE_ADDR: "127.0.0.1",
    },
  });
  req.pipe(cgi.stdin);
  // A client that goes away mid-request must not crash the server with EPIPE.
  cgi.stdin.on("error", () => {});
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
  return new Promise((resolve, reject) => {
    cgi.on("error", () => {}); // a spawn failure: "close" follows, and the answer is a 500
    cgi.on("close", () => {
      const after = options.beforeEnd?.() ?? Promise.resolve();
      // The response ends either way; a failure of beforeEnd is the caller's to report.
      after.then(
        () => end(() => resolve()),
        (error: unknown) => end(() => reject(error)),
      );
    });
    const end = (then: () => void) => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
      then();
    };
  });
}
