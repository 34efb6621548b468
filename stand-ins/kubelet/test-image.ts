// A tiny image in local container storage for the kubelet's image-mode tests: the host's busybox and
// the libraries it links, a passwd and group with a non-root user, a file found only in the image,
// and a config that sets every field the kubelet applies (Entrypoint, Cmd, Env, WorkingDir, User).
// Built with buildah from scratch and tagged by a digest of its inputs, so it is built once per
// machine and a change of inputs makes a new tag (nothing that others use is ever removed).
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const TEST_IMAGE_CONFIG = {
  entrypoint: ["/bin/entry"],
  cmd: ["echo", "from-cmd"],
  env: ["PATH=/usr/local/bin:/bin", "IMAGE_VAR=from-image"],
  workingDir: "/home/app",
  user: "app",
} as const;

const FILES: Record<string, string> = {
  "etc/passwd": "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:App:/home/app:/bin/sh\n",
  "etc/group": "root:x:0:\napp:x:1000:\nstaff:x:50:app\n",
  "only-in-image": "image content\n",
  // The Entrypoint: says it ran, then runs its arguments.
  "bin/entry": '#!/bin/sh\necho "entry: $*"\nexec "$@"\n',
};

// httpd and wget: a service and a client for `kiln run --image` (test/agent/run-image.test.ts).
const APPLETS = "sh ls cat echo id touch sleep pwd env hostname tr wc stat true grep httpd wget".split(" ");

function libraries(binary: string): string[] {
  const out = execFileSync("ldd", [binary], { encoding: "utf8" });
  return [...out.matchAll(/(\/\S+)\s+\(0x/g)].map((m) => m[1]!);
}

/** The image's reference, built first if local storage does not have it yet. */
export function ensureTestImage(): string {
  const busybox = fs.realpathSync("/bin/busybox");
  const libs = libraries(busybox);
  // Keyed by this recipe (the file itself) and the binaries it copies.
  const hash = createHash("sha256").update(fs.readFileSync(import.meta.filename));
  for (const file of [busybox, ...libs]) hash.update(fs.readFileSync(file));
  const ref = `localhost/kiln-test-busybox:${hash.digest("hex").slice(0, 12)}`;
  const env = { ...process.env, BUILDAH_ISOLATION: process.env.BUILDAH_ISOLATION ?? "chroot" };
  if (spawnSync("podman", ["image", "exists", ref]).status === 0) return ref;

  const root = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-test-image-"));
  try {
    fs.mkdirSync(path.join(root, "bin"));
    fs.copyFileSync(busybox, path.join(root, "bin/busybox"));
    fs.chmodSync(path.join(root, "bin/busybox"), 0o755);
    for (const applet of APPLETS) fs.symlinkSync("busybox", path.join(root, "bin", applet));
    for (const lib of libs) {
      fs.mkdirSync(path.join(root, path.dirname(lib)), { recursive: true });
      fs.copyFileSync(fs.realpathSync(lib), path.join(root, lib));
    }
    for (const [file, text] of Object.entries(FILES)) {
      fs.mkdirSync(path.join(root, path.dirname(file)), { recursive: true });
      fs.writeFileSync(path.join(root, file), text, { mode: file.startsWith("bin/") ? 0o755 : 0o644 });
    }
    fs.mkdirSync(path.join(root, "tmp"), { mode: 0o1777 });
    fs.chmodSync(path.join(root, "tmp"), 0o1777);
    fs.mkdirSync(path.join(root, "home"));
    fs.mkdirSync(path.join(root, "usr/local/bin"), { recursive: true });
    const buildah = (...args: string[]) => execFileSync("buildah", args, { encoding: "utf8", env }).trim();
    const ctr = buildah("from", "scratch");
    try {
      buildah("copy", ctr, `${root}/`, "/");
      // The user's home, owned by the user (buildah copy makes everything root's otherwise).
      fs.mkdirSync(path.join(root, "empty"));
      buildah("copy", "--chown", "1000:1000", ctr, path.join(root, "empty"), "/home/app");
      buildah(
        "config",
        "--entrypoint",
        JSON.stringify(TEST_IMAGE_CONFIG.entrypoint),
        "--cmd",
        JSON.stringify(TEST_IMAGE_CONFIG.cmd),
        ...TEST_IMAGE_CONFIG.env.flatMap((e) => ["--env", e]),
        "--workingdir",
        TEST_IMAGE_CONFIG.workingDir,
        "--user",
        TEST_IMAGE_CONFIG.user,
        ctr,
      );
      buildah("commit", "--quiet", ctr, ref);
    } finally {
      spawnSync("buildah", ["rm", ctr], { env, stdio: "ignore" });
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  return ref;
}
