// The machine's local container storage (containers-storage, where buildah and podman keep images)
// as the kubelet's image service: whether an image is present, its config, its /etc/passwd and
// /etc/group, and a read-only root filesystem for it. podman does the reading and mounting, so the
// storage driver is whatever this machine uses by default (overlay or vfs), as for buildah.
//
// Lookups are cached by reference until local storage changes (any <driver>-images/images.json under
// the graph root), so a rebuilt tag is seen at the next container start; configs, files and mounts
// are cached per image ID, which never changes content. A root is mounted once per image per kubelet
// (`podman image mount`, counted by containers-storage, so kubelets in other processes share it) and
// unmounted when the kubelet stops. A kubelet killed outright leaves its count behind (a read-only
// mount until `podman image unmount --all`).
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import type { Logger } from "../log.ts";
import type { ImageConfig, ImageFiles } from "./image-config.ts";
import { normalizeImage } from "./image-ref.ts";
import { readInRoot } from "./root-view.ts";

const run = promisify(execFile);

export interface LocalImage {
  id: string;
  /** The name it was found by (normalized, e.g. localhost/kiln:dev). */
  name: string;
  config: ImageConfig;
}

/** containers-storage's graph root for root: storage.conf's graphroot, or the default. */
function graphRoot(): string {
  const files = [
    process.env.CONTAINERS_STORAGE_CONF,
    "/etc/containers/storage.conf",
    "/usr/share/containers/storage.conf",
  ];
  for (const file of files) {
    if (!file) continue;
    try {
      const m = /^\s*graphroot\s*=\s*"([^"]+)"/m.exec(fs.readFileSync(file, "utf8"));
      if (m) return m[1]!;
    } catch {}
  }
  return "/var/lib/containers/storage";
}

export class ImageStore {
  private readonly root = graphRoot();
  private readonly lookups = new Map<string, Promise<LocalImage | undefined>>();
  private lookupsSignature = "";
  private readonly mounts = new Map<string, Promise<string>>();
  private readonly files = new Map<string, ImageFiles>();
  private readonly podman: string;
  private readonly log: Logger;
  private available: boolean | undefined;

  constructor(options: { log: Logger; podman?: string }) {
    this.podman = options.podman ?? "podman";
    this.log = options.log;
  }

  /** Changes whenever an image is added, removed or (re)tagged in local storage. */
  private signature(): string {
    let sig = "";
    let dirs: string[] = [];
    try {
      dirs = fs.readdirSync(this.root).filter((d) => d.endsWith("-images"));
    } catch {}
    for (const d of dirs.sort()) {
      try {
        const s = fs.statSync(path.join(this.root, d, "images.json"));
        sig += `${d}:${s.ino}:${s.size}:${s.mtimeMs};`;
      } catch {}
    }
    return sig;
  }

  /** The image in local storage, or undefined when it is not there (or there is no podman). */
  find(image: string): Promise<LocalImage | undefined> {
    const name = normalizeImage(image);
    const sig = this.signature();
    // Without a storage index to watch, nothing is cached: every start asks podman.
    if (sig === "" || sig !== this.lookupsSignature) {
      this.lookups.clear();
      this.lookupsSignature = sig;
    }
    let found = this.lookups.get(name);
    if (!found) {
      found = this.inspect(name);
      if (sig !== "") this.lookups.set(name, found);
    }
    return found;
  }

  private async inspect(name: string): Promise<LocalImage | undefined> {
    if (this.available === false) return undefined;
    try {
      const { stdout } = await run(this.podman, ["image", "inspect", "--format", "json", name], {
        maxBuffer: 64 << 20,
      });
      this.available = true;
      const [info] = JSON.parse(stdout) as { Id: string; Config?: ImageConfig }[];
      if (!info) return undefined;
      return { id: info.Id, name, config: info.Config ?? {} };
    } catch (error) {
      const e = error as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === "ENOENT") {
        this.available = false;
        this.log.warn(
          "podman is not installed: every image runs in host-mirror mode (apt-get install podman)",
        );
        return undefined;
      }
      if (/image not known|no such image|not found/i.test(e.stderr ?? "")) return undefined;
      throw new Error(`podman image inspect ${name}: ${e.stderr?.trim() || e.message}`);
    }
  }

  /** The image's root filesystem, read-only, mounted on first use. */
  rootfs(image: LocalImage): Promise<string> {
    let mounted = this.mounts.get(image.id);
    if (!mounted) {
      mounted = run(this.podman, ["image", "mount", image.id]).then(({ stdout }) => stdout.trim());
      this.mounts.set(image.id, mounted);
      mounted.catch(() => this.mounts.delete(image.id));
    }
    return mounted;
  }

  /** /etc/passwd and /etc/group of the image, resolved inside its root. */
  async userFiles(image: LocalImage): Promise<ImageFiles> {
    let files = this.files.get(image.id);
    if (!files) {
      const root = await this.rootfs(image);
      files = { passwd: readInRoot(root, "/etc/passwd"), group: readInRoot(root, "/etc/group") };
      this.files.set(image.id, files);
    }
    return files;
  }

  /** Unmounts what this store mounted. */
  async close(): Promise<void> {
    const mounted = [...this.mounts.entries()];
    this.mounts.clear();
    await Promise.all(
      mounted.map(async ([id, mount]) => {
        if ((await mount.then(() => true).catch(() => false)) === false) return;
        await run(this.podman, ["image", "unmount", id]).catch((error) =>
          this.log.warn({ err: error, image: id }, "podman image unmount failed"),
        );
      }),
    );
  }
}
