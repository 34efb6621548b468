// `kiln run --image` end to end with the bwrap engine: the real CLI runs a pipeline in a real image of
// this machine's container storage (a busybox image built with buildah, cached), its services beside
// it, as the build pod would. docker and podman cannot start containers here; their command lines are
// agent/engine-cli.test.ts.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pidsWith } from "../../stand-ins/kubelet/pids.ts";
import { ensureTestImage } from "../../stand-ins/kubelet/test-image.ts";
import { waitFor } from "../wait-for.ts";

const KILN = join(import.meta.dirname, "../../bin/kiln.ts");
const has = (command: string) => spawnSync("sh", ["-c", `command -v ${command}`]).status === 0;
const canRun =
  process.getuid?.() === 0 && ["bwrap", "podman", "buildah", "unshare", "nsenter", "cc"].every(has)
    ? true
    : "needs root, bwrap, podman, buildah, util-linux and gcc (.ci/run installs them)";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A repository directory the image's user (uid 1000) may write, as a developer's own checkout is theirs. */
function repo(manifest: string): string {
  const dir = mkdtempSync(join(tmpdir(), "kiln-run-image-"));
  dirs.push(dir);
  chmodSync(dir, 0o777);
  writeFileSync(join(dir, ".kiln.yaml"), manifest);
  return dir;
}

/** A cache directory of the test's own (never the developer's ~/.cache). */
function cacheDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "kiln-run-cache-"));
  dirs.push(dir);
  return dir;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function kilnRun(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; onStart?: (child: ReturnType<typeof spawn>) => void } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KILN, "run", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: options.env ?? process.env,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`kiln run did not finish\n${stdout}\n${stderr}`));
    }, 60_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    options.onStart?.(child);
  });
}

describe("kiln run --image --engine bwrap", { skip: canRun === true ? false : canRun }, () => {
  let image: string;
  before(() => {
    image = ensureTestImage();
  });

  test("steps run in the image as its user in /workspace (the directory); services on localhost, as in a pod", async () => {
    const [web, api] = [await freePort(), await freePort()];
    const dir = repo(`image: ${image}
env: {WEB: "${web}"}
services:
  - name: web
    image: ${image}
    env: {PORT: "${web}", MSG: from-web}
    command: [sh, -c, 'echo "$(MSG)" > /tmp/index.html && exec httpd -f -p 127.0.0.1:$(PORT) -h /tmp']
    ports: [${web}]
  - name: api
    image: ${image}
    args: [sh, -c, 'echo from-api > /tmp/index.html && exec httpd -f -p 127.0.0.1:${api} -h /tmp']
    ready: {command: 'wget -q -O /dev/null http://127.0.0.1:${api}/', timeout: 30s}
cache: {key: npm, paths: [node_modules]}
secrets: [{env: NPM_TOKEN, secretRef: {name: npm, key: token}}]
steps:
  - name: who
    run: |
      echo "as $(id -u):$(id -g) in $(pwd) home=$HOME step=$KILN_STEP ci=$CI token=[$NPM_TOKEN] other=[$OTHER_TOKEN]"
      cat /only-in-image
      echo made > artifact
  - name: services
    run: |
      wget -q -O- http://localhost:$WEB/
      wget -q -O- http://127.0.0.1:${api}/
`);
    // The declared secret comes from the shell, masked; nothing else of the developer's env gets in.
    const r = await kilnRun([dir, "--engine", "bwrap", "--grace", "1s", "--cache-dir", cacheDir()], {
      env: { ...process.env, NPM_TOKEN: "from-the-shell", OTHER_TOKEN: "not-declared" },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^kiln run: cache: miss \(npm-[0-9a-f]{32}\)$/m);
    assert.doesNotMatch(r.stderr, /secrets:/);
    // The build container's log, as kubectl logs -c build shows it.
    assert.match(
      r.stdout,
      /^==> who\nas 1000:1000 in \/workspace home=\/home\/app step=who ci=true token=\[\*\*\*\] other=\[\]\nimage content$/m,
    );
    assert.match(r.stdout, /^==> services\nfrom-web\nfrom-api$/m);
    assert.match(r.stderr, new RegExp(`service web is up \\(port ${web}\\)`));
    assert.match(r.stderr, /service api is up \(`wget -q -O \/dev\/null http:\/\/127\.0\.0\.1:\d+\/`\)/);
    assert.equal(readFileSync(join(dir, "artifact"), "utf8"), "made\n");
    assert.equal(statSync(join(dir, "artifact")).uid, 1000, "written by the image's user");
    assert.deepEqual(pidsWith(`127.0.0.1:${api}`), [], "the services are stopped");
  });

  test("cache: a path outside the workspace is mounted into the container, saved, and found by the next run", async () => {
    const dir = repo(`image: ${image}
cache: {key: deps, paths: [/home/app/.npm]}
steps:
  - name: look
    run: |
      if [ -f /home/app/.npm/x ]; then read -r v < /home/app/.npm/x; echo "found $v"; else echo absent; fi
      echo "$(( \${v:-0} + 1 ))" > /home/app/.npm/x
`);
    const cache = cacheDir();
    const runOnce = () =>
      kilnRun([dir, "--engine", "bwrap", "--grace", "1s", "--cache-dir", cache, "-b", "main"]);
    const first = await runOnce();
    assert.equal(first.code, 0, `${first.stdout}\n${first.stderr}`);
    assert.match(first.stdout, /^==> look\nabsent$/m);
    assert.match(first.stderr, /^kiln run: cache: saved deps-[0-9a-f]{32} \(/m);
    const second = await runOnce();
    assert.equal(second.code, 0, `${second.stdout}\n${second.stderr}`);
    assert.match(second.stderr, /^kiln run: cache: restored deps-[0-9a-f]{32} \(exact, /m);
    assert.match(
      second.stdout,
      /^==> look\nfound 1$/m,
      `the image's user found it and could overwrite it:\n${second.stdout}`,
    );
  });

  test("a step's timeout stops it inside the container, the run fails (exit 1), nothing is left", async () => {
    const marker = 700_000 + Math.floor(Math.random() * 99_999);
    const dir = repo(`image: ${image}
steps:
  - {name: slow, run: "sleep ${marker} & sleep ${marker}", timeout: 1s}
  - {name: after, run: echo never}
`);
    const r = await kilnRun([dir, "--engine", "bwrap", "--grace", "500ms"]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /step "slow" timed out/);
    assert.match(r.stderr, /^after\s+Skipped$/m);
    assert.deepEqual(pidsWith(`sleep ${marker}`), []);
  });

  test("a failing step fails the run with its exit code; the pipeline's user: is the container's", async () => {
    const dir = repo(
      `image: ${image}\nuser: "2000:3000"\nsteps:\n  - {name: who, run: 'id -u; id -g; exit 7'}\n`,
    );
    const r = await kilnRun([dir, "--engine", "bwrap", "--grace", "500ms"]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^==> who\n2000\n3000$/m);
    assert.match(r.stderr, /step "who" failed with exit code 7/);
  });

  test("secrets from kiln run's environment reach the build container, masked in its log", async () => {
    const dir = repo(
      `image: ${image}\nsecrets:\n  - {env: API_TOKEN, secretRef: {name: api, key: token}}\nsteps:\n  - {name: show, run: 'echo "token=$API_TOKEN"; exit 5'}\n`,
    );
    const r = await kilnRun([dir, "--engine", "bwrap", "--grace", "500ms"], {
      env: { ...process.env, API_TOKEN: "img-s3cr3t-value" },
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^==> show\ntoken=\*\*\*$/m);
    assert.ok(!`${r.stdout}${r.stderr}`.includes("s3cr3t"), r.stdout);
  });

  test("SIGINT cancels the running step in the container: exit 130, nothing left", async () => {
    const marker = 800_000 + Math.floor(Math.random() * 99_999);
    const dir = repo(`image: ${image}\nsteps:\n  - {name: slow, run: "touch started; sleep ${marker}"}\n`);
    const r = await kilnRun([dir, "--engine", "bwrap", "--grace", "500ms"], {
      onStart: (child) => {
        waitFor("the step to start", () => existsSync(join(dir, "started")), 30_000).then(
          () => child.kill("SIGINT"),
          () => child.kill("SIGKILL"),
        );
      },
    });
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /cancelled during step "slow"/);
    assert.deepEqual(pidsWith(`sleep ${marker}`), []);
  });

  test("at a pause, the shell it names is in the build container; SIGUSR1 resumes", async () => {
    const dir = repo(
      `image: ${image}\nsteps:\n  - {name: look, type: pause, timeout: 30s}\n  - {name: after, run: echo resumed}\n`,
    );
    let stderr = "";
    let inside = "";
    const r = await kilnRun([dir, "--engine", "bwrap", "--grace", "500ms"], {
      onStart: (child) => {
        child.stderr!.on("data", (d) => {
          stderr += d;
          const shell = /a shell in the build container: (nsenter [^;]+ sh);/.exec(stderr)?.[1];
          if (shell && !inside) {
            const [file, ...args] = shell.split(" ");
            inside = spawnSync(file!, [...args.slice(0, -1), "sh", "-c", "cat /only-in-image; pwd"], {
              encoding: "utf8",
            }).stdout;
            child.kill("SIGUSR1");
          }
        });
      },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(inside, "image content\n/workspace\n");
    assert.match(r.stdout, /^==> after\nresumed$/m);
  });

  test("a service that is never up stops the run before any step (exit 125), with its output", async () => {
    const port = await freePort();
    const dir = repo(`image: ${image}
services:
  - {name: db, image: ${image}, command: [sh, -c, 'echo db is starting; exec sleep 1000'], ports: [${port}], ready: {port: ${port}, timeout: 2s}}
steps:
  - {name: never, run: echo never}
`);
    const r = await kilnRun([dir, "--engine", "bwrap", "--grace", "500ms"]);
    assert.equal(r.code, 125, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `service db was not up after 2s: port ${port} accepted no connection; its last output:\\ndb is starting`,
      ),
    );
    assert.doesNotMatch(r.stdout, /never/);
  });

  test("an image that is not in local storage: exit 125, saying what to do", async () => {
    const dir = repo("image: localhost/kiln-no-such-image:1\nsteps:\n  - {name: a, run: 'true'}\n");
    const r = await kilnRun([dir, "--engine", "bwrap"]);
    assert.equal(r.code, 125, r.stderr);
    assert.match(
      r.stderr,
      /image localhost\/kiln-no-such-image:1 is not in this machine's container storage/,
    );
  });

  test("Kiln's own image (localhost/kiln:dev, when built): Node 24 as its user 10001", {
    skip:
      spawnSync("podman", ["image", "exists", "localhost/kiln:dev"]).status !== 0 &&
      "npm run image builds it",
  }, async () => {
    const dir = repo(
      "image: localhost/kiln:dev\nsteps:\n  - {name: node, run: 'node --version; id -u; kiln --help | head -1'}\n",
    );
    const r = await kilnRun([dir, "--engine", "bwrap"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^==> node\nv24\.\d+\.\d+\n10001\nUsage: kiln <command> \[options\]$/m);
  });
});

describe("kiln run --image without an engine", () => {
  test("says clearly that docker and podman are missing (exit 2), before anything runs", async () => {
    const dir = repo("image: node:24\nsteps:\n  - {name: a, run: touch ran}\n");
    const r = await kilnRun([dir, "--image"], { env: { ...process.env, PATH: "/nonexistent" } });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--image needs docker or podman on PATH, and neither is here/);
    assert.ok(!existsSync(join(dir, "ran")));
  });

  test("a pipeline without an image cannot run --image (exit 2), and no engine is called", async () => {
    const dir = repo("steps:\n  - {name: a, run: 'true'}\n");
    // A docker on PATH that records being called.
    const bin = mkdtempSync(join(tmpdir(), "kiln-bin-"));
    dirs.push(bin);
    writeFileSync(join(bin, "docker"), `#!/bin/sh\ntouch ${join(bin, "called")}\nexit 99\n`, { mode: 0o755 });
    const r = await kilnRun([dir, "--engine", "docker"], { env: { ...process.env, PATH: bin } });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--image runs the pipeline's image, and \.kiln\.yaml names none/);
    assert.ok(!existsSync(join(bin, "called")));
  });
});
