// The parts of a pod (or pod template) the Pod Security checks read, as JSON has them. A JSON null
// reads as absent, as Go's decoder leaves a nil pointer for it.

export interface SecurityContext {
  privileged?: boolean | null;
  allowPrivilegeEscalation?: boolean | null;
  runAsNonRoot?: boolean | null;
  runAsUser?: number | null;
  procMount?: string | null;
  capabilities?: { add?: string[] | null; drop?: string[] | null } | null;
  seccompProfile?: { type?: string } | null;
  appArmorProfile?: { type?: string } | null;
  seLinuxOptions?: SELinuxOptions | null;
  windowsOptions?: { hostProcess?: boolean | null } | null;
}

export interface SELinuxOptions {
  user?: string;
  role?: string;
  type?: string;
  level?: string;
}

export interface PodSecurityContext {
  runAsNonRoot?: boolean | null;
  runAsUser?: number | null;
  seccompProfile?: { type?: string } | null;
  appArmorProfile?: { type?: string } | null;
  seLinuxOptions?: SELinuxOptions | null;
  windowsOptions?: { hostProcess?: boolean | null } | null;
  sysctls?: { name?: string; value?: string }[] | null;
}

export interface Handler {
  httpGet?: { host?: string } | null;
  tcpSocket?: { host?: string } | null;
}

export interface Container {
  name?: string;
  image?: string;
  securityContext?: SecurityContext | null;
  ports?: { hostPort?: number | null }[] | null;
  livenessProbe?: Handler | null;
  readinessProbe?: Handler | null;
  startupProbe?: Handler | null;
  lifecycle?: { postStart?: Handler | null; preStop?: Handler | null } | null;
}

export type Volume = { name?: string } & Record<string, unknown>;

export interface PodSpec {
  containers?: Container[] | null;
  initContainers?: Container[] | null;
  ephemeralContainers?: Container[] | null;
  volumes?: Volume[] | null;
  securityContext?: PodSecurityContext | null;
  hostNetwork?: boolean | null;
  hostPID?: boolean | null;
  hostIPC?: boolean | null;
  hostUsers?: boolean | null;
  runtimeClassName?: string | null;
  os?: { name?: string } | null;
}

export interface PodMetadata {
  name?: string;
  annotations?: Record<string, string> | null;
}

/** Init containers, then containers, then ephemeral containers (the library's visitContainers). */
export function allContainers(spec: PodSpec): Container[] {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])];
}

export function containerName(c: Container): string {
  return c.name ?? "";
}

export function isWindows(spec: PodSpec): boolean {
  return spec.os?.name === "windows";
}
