// A stand-in for the official node:24-bookworm-slim image, for machines that reach no container registry
// (only Debian's mirror and the npm registry). Same layout as the official image: Debian bookworm (minbase
// from debootstrap, slimmed as debian:bookworm-slim is: no docs, man pages or locales, and dpkg told to
// keep it so), Node in /usr/local/bin, npm in /usr/local/lib/node_modules/npm with npm/npx beside node,
// the `node` user (1000:1000), NODE_VERSION, `docker-entrypoint.sh` as entrypoint and `node` as command.
// Left out: yarn and corepack (Kiln uses neither) and Node's C headers (the npm package carries none).
// Node is the binary `npm ci` installed (the npm package `node`, pinned by the lock file); npm is the
// registry's tarball, pinned by version and integrity.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildahEnv, imageLabel, ROOT } from "./image-inputs.ts";

export const NODE_VERSION = "24.21.0";
/** The npm that Node 24.21.0 bundles. */
const NPM = {
  version: "11.19.0",
  integrity:
    "sha512-SDd/hHg3KqHE5Ht2NHWxNYNtqCQ2pXAPLl6OtQhPyED5PHsRfrOtO199MZTIG2cQoQ1ZRI9t28shrD+2cr3AAw==",
};
const SUITE = "bookworm";
/** Bump when the recipe below changes: the label then no longer matches and the base is made again. */
const RECIPE = "4";
export const BASE_IMAGE = `localhost/kiln-base:node-${NODE_VERSION}-${SUITE}-slim`;
const BASE_LABEL = "dev.kiln.base-inputs";

/** What debian:bookworm-slim tells dpkg, so later `apt-get install`s stay slim too. */
const DPKG_SLIM = `# As in debian:bookworm-slim: no documentation, man pages or translations.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
`;

/** What debian's images tell apt: no package cache, no translations, no suggested packages kept. */
const APT_SLIM: Record<string, string> = {
  "docker-clean": `DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
`,
  "docker-no-languages": 'Acquire::Languages "none";\n',
  "docker-gzip-indexes": 'Acquire::GzipIndexes "true";\n',
  "docker-autoremove-suggests": 'Apt::AutoRemove::SuggestsImportant "false";\n',
};

/** Runs `node` when the first argument is an option or not a command, as the official image's entrypoint. */
const ENTRYPOINT = `#!/bin/sh
set -e
if [ "\${1#-}" != "\${1}" ] || [ -z "$(command -v "\${1}")" ] || { [ -f "\${1}" ] && ! [ -x "\${1}" ]; }; then
  set -- node "$@"
fi
exec "$@"
`;

/** The Debian mirror of this machine's apt sources (deb822 `URIs:` or one-line `deb` entries). */
export function debianMirror(sources: string[]): string {
  for (const text of sources) {
    for (const line of text.split("\n")) {
      const deb822 = /^URIs:\s*(\S+)/.exec(line.trim());
      const oneLine = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line.trim());
      const uri = deb822?.[1] ?? oneLine?.[1];
      if (uri && /\/debian\/?$/.test(uri)) return uri;
    }
  }
  return "http://deb.debian.org/debian";
}

function aptSources(): string[] {
  const texts: string[] = [];
  const read = (path: string) => {
    try {
      texts.push(readFileSync(path, "utf8"));
    } catch {}
  };
  read("/etc/apt/sources.list");
  try {
    for (const f of readdirSync("/etc/apt/sources.list.d"))
      if (/\.(list|sources)$/.test(f)) read(`/etc/apt/sources.list.d/${f}`);
  } catch {}
  return texts;
}

const nodeBinary = () => join(ROOT, "node_modules/node/bin/node");

function baseInputs(mirror: string): string {
  return createHash("sha256")
    .update(JSON.stringify({ RECIPE, NODE_VERSION, NPM, SUITE, mirror, DPKG_SLIM, APT_SLIM, ENTRYPOINT }))
    .digest("hex");
}

function run(file: string, args: string[], options: { cwd?: string } = {}): string {
  return execFileSync(file, args, {
    encoding: "utf8",
    env: buildahEnv(),
    stdio: ["ignore", "pipe", "inherit"],
    ...options,
  });
}

/** The stand-in base in local storage, made unless an identical one is there already. */
export function ensureBaseImage(log: (line: string) => void): string {
  const mirror = debianMirror(aptSources());
  const inputs = baseInputs(mirror);
  if (imageLabel(BASE_IMAGE, BASE_LABEL) === inputs) return BASE_IMAGE;
  const version = run(nodeBinary(), ["--version"]).trim();
  if (version !== `v${NODE_VERSION}`)
    throw new Error(`${nodeBinary()} is ${version}, expected v${NODE_VERSION}: run npm ci`);
  const work = mkdtempSync(join(tmpdir(), "kiln-base-"));
  const rootfs = join(work, "rootfs");
  try {
    log(`making ${BASE_IMAGE}: debootstrap --variant=minbase ${SUITE} from ${mirror}`);
    run("debootstrap", ["--variant=minbase", SUITE, rootfs, mirror]);
    writeFileSync(join(rootfs, "etc/dpkg/dpkg.cfg.d/docker-slim"), DPKG_SLIM);
    for (const [file, text] of Object.entries(APT_SLIM))
      writeFileSync(join(rootfs, "etc/apt/apt.conf.d", file), text);
    for (const dir of [
      "usr/share/man",
      "usr/share/locale",
      "usr/share/info",
      "usr/share/groff",
      "usr/share/lintian",
    ])
      rmSync(join(rootfs, dir), { recursive: true, force: true });
    run("find", [
      join(rootfs, "usr/share/doc"),
      "-mindepth",
      "1",
      "-not",
      "-name",
      "copyright",
      "-not",
      "-type",
      "d",
      "-delete",
    ]);
    run("chroot", [rootfs, "apt-get", "clean"]);
    rmSync(join(rootfs, "var/lib/apt/lists"), { recursive: true, force: true });
    mkdirSync(join(rootfs, "var/lib/apt/lists/partial"), { recursive: true });

    log(`adding Node ${NODE_VERSION} and npm ${NPM.version}`);
    run("cp", [nodeBinary(), join(rootfs, "usr/local/bin/node")]);
    const packed = JSON.parse(
      run("npm", ["pack", `npm@${NPM.version}`, "--json", "--pack-destination", work], { cwd: work }),
    ) as {
      filename: string;
      integrity: string;
    }[];
    if (packed[0]?.integrity !== NPM.integrity)
      throw new Error(`npm@${NPM.version} tarball integrity ${packed[0]?.integrity} is not the pinned one`);
    const npmDir = join(rootfs, "usr/local/lib/node_modules/npm");
    mkdirSync(npmDir, { recursive: true });
    run("tar", [
      "-xzf",
      join(work, packed[0].filename),
      "-C",
      npmDir,
      "--strip-components=1",
      "--no-same-owner",
    ]);
    symlinkSync("../lib/node_modules/npm/bin/npm-cli.js", join(rootfs, "usr/local/bin/npm"));
    symlinkSync("../lib/node_modules/npm/bin/npx-cli.js", join(rootfs, "usr/local/bin/npx"));
    writeFileSync(join(rootfs, "usr/local/bin/docker-entrypoint.sh"), ENTRYPOINT);
    chmodSync(join(rootfs, "usr/local/bin/docker-entrypoint.sh"), 0o755);
    run("chroot", [rootfs, "groupadd", "--gid", "1000", "node"]);
    run("chroot", [
      rootfs,
      "useradd",
      "--uid",
      "1000",
      "--gid",
      "node",
      "--shell",
      "/bin/bash",
      "--create-home",
      "node",
    ]);
    run("chroot", [rootfs, "/usr/local/bin/node", "--version"]);
    run("chroot", [rootfs, "/usr/local/bin/npm", "--version"]);
    rmSync(join(rootfs, "tmp"), { recursive: true, force: true });
    mkdirSync(join(rootfs, "tmp"), { mode: 0o1777 });
    chmodSync(join(rootfs, "tmp"), 0o1777);

    log(`committing ${BASE_IMAGE}`);
    run("tar", ["--numeric-owner", "--xattrs", "-C", rootfs, "-cf", join(work, "rootfs.tar"), "."]);
    const container = run("buildah", ["from", "scratch"]).trim();
    try {
      run("buildah", ["add", container, join(work, "rootfs.tar"), "/"]);
      run("buildah", [
        "config",
        "--env",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "--env",
        `NODE_VERSION=${NODE_VERSION}`,
        "--entrypoint",
        '["docker-entrypoint.sh"]',
        "--cmd",
        '["node"]',
        "--label",
        `${BASE_LABEL}=${inputs}`,
        "--label",
        "org.opencontainers.image.description=Stand-in for node:24-bookworm-slim, made by Kiln's npm run image",
        container,
      ]);
      run("buildah", ["commit", "--rm", container, BASE_IMAGE]);
    } catch (error) {
      run("buildah", ["rm", container]);
      throw error;
    }
    return BASE_IMAGE;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
