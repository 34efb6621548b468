// The pod's volumes as directories on the host, written once when the pod starts (secret,
// configMap and downwardAPI content is not refreshed later; projected tokens are, by the pod worker).
import * as fs from "node:fs";
import * as path from "node:path";
import type { V1DownwardAPIVolumeFile, V1KeyToPath, V1Pod, V1Volume } from "@kubernetes/client-node";
import { ConfigError, type EnvInputs, fieldValue, resourceValue } from "./env.ts";

/** Secret or ConfigMap content as bytes (data and binaryData), undefined when absent. */
export type ObjectBytes = Readonly<Record<string, Buffer>> | undefined;

export interface VolumeInputs {
  secrets: ReadonlyMap<string, ObjectBytes>;
  configMaps: ReadonlyMap<string, ObjectBytes>;
  env: Pick<EnvInputs, "podIP" | "hostIP" | "nodeName" | "allocatable">;
  /** A service-account token from the TokenRequest API. */
  token(request: { audience?: string; expirationSeconds: number }): Promise<string>;
}

export interface TokenFile {
  /** Absolute path of the token file on the host. */
  file: string;
  request: { audience?: string; expirationSeconds: number };
  mode: number;
}

export interface PreparedVolume {
  hostPath: string;
  /** Service-account tokens in this volume, which the kubelet refreshes before they expire. */
  tokens?: TokenFile[];
  /** secret, configMap, downwardAPI and projected volumes are always mounted read-only. */
  readOnly: boolean;
}

/** A volume that cannot be set up yet (missing Secret …): the kubelet retries, the pod waits. */
export class VolumeError extends Error {}

type File = { path: string; content: Buffer; mode: number; token?: TokenFile["request"] };

function keyFiles(
  kind: string,
  name: string,
  data: ObjectBytes,
  items: V1KeyToPath[] | undefined,
  optional: boolean | undefined,
  defaultMode: number,
): File[] {
  if (data === undefined) {
    if (optional) return [];
    throw new VolumeError(`${kind} "${name}" not found`);
  }
  if (!items) {
    return Object.entries(data).map(([k, content]) => ({ path: k, content, mode: defaultMode }));
  }
  const files: File[] = [];
  for (const item of items) {
    const content = data[item.key];
    if (content === undefined) {
      if (optional) continue;
      // The kubelet's own words, which differ by kind (pkg/volume/secret and pkg/volume/configmap).
      throw new VolumeError(
        kind === "secret"
          ? `references non-existent secret key: ${item.key}`
          : `configmap references non-existent config key: ${item.key}`,
      );
    }
    files.push({ path: item.path, content, mode: item.mode ?? defaultMode });
  }
  return files;
}

function downwardFiles(
  pod: V1Pod,
  items: V1DownwardAPIVolumeFile[],
  inputs: VolumeInputs,
  defaultMode: number,
): File[] {
  return items.map((item) => {
    let value = "";
    try {
      if (item.fieldRef) value = fieldValue(pod, item.fieldRef, inputs.env);
      else if (item.resourceFieldRef) value = resourceValue(pod, "", item.resourceFieldRef, inputs.env);
    } catch (error) {
      if (error instanceof ConfigError) throw new VolumeError(error.message);
      throw error;
    }
    return { path: item.path, content: Buffer.from(value), mode: item.mode ?? defaultMode };
  });
}

async function volumeFiles(pod: V1Pod, v: V1Volume, inputs: VolumeInputs): Promise<File[] | undefined> {
  if (v.secret) {
    const name = v.secret.secretName ?? "";
    const mode = v.secret.defaultMode ?? 0o644;
    return keyFiles("secret", name, inputs.secrets.get(name), v.secret.items, v.secret.optional, mode);
  }
  if (v.configMap) {
    const name = v.configMap.name ?? "";
    const mode = v.configMap.defaultMode ?? 0o644;
    return keyFiles(
      "configmap",
      name,
      inputs.configMaps.get(name),
      v.configMap.items,
      v.configMap.optional,
      mode,
    );
  }
  if (v.downwardAPI) {
    return downwardFiles(pod, v.downwardAPI.items ?? [], inputs, v.downwardAPI.defaultMode ?? 0o644);
  }
  if (v.projected) {
    const mode = v.projected.defaultMode ?? 0o644;
    const files: File[] = [];
    for (const s of v.projected.sources ?? []) {
      if (s.secret) {
        const name = s.secret.name ?? "";
        files.push(
          ...keyFiles("secret", name, inputs.secrets.get(name), s.secret.items, s.secret.optional, mode),
        );
      } else if (s.configMap) {
        const name = s.configMap.name ?? "";
        const data = inputs.configMaps.get(name);
        files.push(...keyFiles("configmap", name, data, s.configMap.items, s.configMap.optional, mode));
      } else if (s.downwardAPI) {
        files.push(...downwardFiles(pod, s.downwardAPI.items ?? [], inputs, mode));
      } else if (s.serviceAccountToken) {
        const t = s.serviceAccountToken;
        const request: { audience?: string; expirationSeconds: number } = {
          expirationSeconds: t.expirationSeconds ?? 3600,
        };
        if (t.audience) request.audience = t.audience;
        files.push({ path: t.path, content: Buffer.from(await inputs.token(request)), mode, token: request });
      } else {
        throw new VolumeError(`projected volume ${v.name}: unsupported source ${Object.keys(s).join(",")}`);
      }
    }
    return files;
  }
  return undefined;
}

function writeFiles(dir: string, files: File[]): void {
  for (const f of files) {
    const target = path.resolve(dir, f.path);
    if (!target.startsWith(`${dir}/`)) throw new VolumeError(`invalid volume path ${JSON.stringify(f.path)}`);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, f.content, { mode: f.mode });
    fs.chmodSync(target, f.mode);
  }
}

/**
 * fsGroup ownership as the kubelet applies it (pkg/volume SetVolumeOwnership): group fsGroup,
 * group-readable files, setgid directories so new files inherit the group.
 */
function applyFsGroup(dir: string, gid: number, readOnly: boolean): void {
  const walk = (p: string) => {
    const st = fs.lstatSync(p);
    if (st.isSymbolicLink()) return;
    fs.chownSync(p, st.uid, gid);
    if (st.isDirectory()) {
      fs.chmodSync(p, (st.mode & 0o7777) | (readOnly ? 0o2550 : 0o2770));
      for (const child of fs.readdirSync(p)) walk(path.join(p, child));
    } else {
      fs.chmodSync(p, (st.mode & 0o7777) | (readOnly ? 0o440 : 0o660));
    }
  };
  walk(dir);
}

/** Creates every volume of the pod under `root` (idempotent for emptyDir: contents survive). */
export async function prepareVolumes(
  pod: V1Pod,
  root: string,
  inputs: VolumeInputs,
): Promise<Map<string, PreparedVolume>> {
  const out = new Map<string, PreparedVolume>();
  const fsGroup = pod.spec?.securityContext?.fsGroup;
  for (const v of pod.spec?.volumes ?? []) {
    if (v.hostPath) {
      out.set(v.name, { hostPath: v.hostPath.path, readOnly: false });
      continue;
    }
    const dir = path.join(root, v.name);
    if (v.emptyDir) {
      fs.mkdirSync(dir, { recursive: true, mode: 0o777 });
      fs.chmodSync(dir, 0o777);
      if (fsGroup !== undefined) applyFsGroup(dir, fsGroup, false);
      out.set(v.name, { hostPath: dir, readOnly: false });
      continue;
    }
    const files = await volumeFiles(pod, v, inputs);
    if (!files) {
      const kind = Object.keys(v).find((k) => k !== "name") ?? "unknown";
      throw new VolumeError(
        `volume ${JSON.stringify(v.name)}: type ${kind} is not supported by the process kubelet`,
      );
    }
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    writeFiles(dir, files);
    if (fsGroup !== undefined) applyFsGroup(dir, fsGroup, true);
    const tokens = files.flatMap((f) =>
      f.token ? [{ file: path.resolve(dir, f.path), request: f.token, mode: f.mode }] : [],
    );
    out.set(v.name, { hostPath: dir, readOnly: true, ...(tokens.length > 0 ? { tokens } : {}) });
  }
  return out;
}

/** Replaces a token file atomically (a rename in the volume directory, which containers see). */
export function rewriteToken(t: TokenFile, token: string, fsGroup: number | undefined): void {
  const tmp = `${t.file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, token, { mode: t.mode });
  fs.chmodSync(tmp, fsGroup === undefined ? t.mode : t.mode | 0o440);
  if (fsGroup !== undefined) fs.chownSync(tmp, 0, fsGroup);
  fs.renameSync(tmp, t.file);
}
