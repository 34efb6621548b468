// Pure pieces of kube's pkg/controller/deployment/util: surge and unavailability fenceposts, replica
// counts over ReplicaSets, revisions and the annotations a Deployment keeps on its ReplicaSets, the
// orderings kube sorts ReplicaSets by, and Deployment conditions.
import type { KubeObject } from "../storage.ts";
import { type IntOrString, scaledValue } from "./int-or-percent.ts";
import type { LabelSelector } from "./label-selector.ts";
import { equalIgnoreHash } from "./pod-template-hash.ts";

export const REVISION = "deployment.kubernetes.io/revision";
export const REVISION_HISTORY = "deployment.kubernetes.io/revision-history";
export const DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas";
export const MAX_REPLICAS = "deployment.kubernetes.io/max-replicas";
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
const ROLLBACK_TO = "deprecated.deployment.rollback.to";
const MAX_REVISION_HISTORY_CHARS = 2000;
const MAX_INT32 = 2147483647;

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown };
  spec?: Record<string, unknown>;
}

export interface DeploymentCondition {
  type: string;
  status: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  conditions?: DeploymentCondition[];
  collisionCount?: number;
}

export interface Deployment extends KubeObject {
  spec: {
    replicas?: number;
    selector?: LabelSelector;
    template?: PodTemplate;
    strategy?: { type?: string; rollingUpdate?: { maxSurge?: IntOrString; maxUnavailable?: IntOrString } };
    minReadySeconds?: number;
    revisionHistoryLimit?: number;
    paused?: boolean;
    progressDeadlineSeconds?: number;
  };
  status?: DeploymentStatus;
}

export interface ReplicaSetCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface ReplicaSet extends KubeObject {
  spec: {
    replicas?: number;
    minReadySeconds?: number;
    selector?: LabelSelector;
    template?: PodTemplate;
  };
  status?: {
    replicas?: number;
    fullyLabeledReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    observedGeneration?: number;
    conditions?: ReplicaSetCondition[];
  };
}

export const desired = (d: Deployment): number => d.spec.replicas ?? 1;
export const specReplicas = (rs: ReplicaSet | undefined): number => rs?.spec.replicas ?? 0;

export function isRollingUpdate(d: Deployment): boolean {
  return (d.spec.strategy?.type ?? "RollingUpdate") === "RollingUpdate";
}

/** ResolveFenceposts: surge rounds up, unavailability down; both 0 makes unavailability 1. */
export function resolveFenceposts(d: Deployment): { surge: number; unavailable: number } {
  const ru = d.spec.strategy?.rollingUpdate;
  const surge = scaledValue(ru?.maxSurge ?? 0, desired(d), true);
  let unavailable = scaledValue(ru?.maxUnavailable ?? 0, desired(d), false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export function maxSurge(d: Deployment): number {
  return isRollingUpdate(d) ? resolveFenceposts(d).surge : 0;
}

export function maxUnavailable(d: Deployment): number {
  if (!isRollingUpdate(d) || desired(d) === 0) return 0;
  return Math.min(resolveFenceposts(d).unavailable, desired(d));
}

type RSs = (ReplicaSet | undefined)[];
const sum = (rss: RSs, f: (rs: ReplicaSet) => number) => rss.reduce((n, rs) => n + (rs ? f(rs) : 0), 0);
export const replicaCount = (rss: RSs) => sum(rss, specReplicas);
export const actualReplicaCount = (rss: RSs) => sum(rss, (rs) => rs.status?.replicas ?? 0);
export const readyReplicaCount = (rss: RSs) => sum(rss, (rs) => rs.status?.readyReplicas ?? 0);
export const availableReplicaCount = (rss: RSs) => sum(rss, (rs) => rs.status?.availableReplicas ?? 0);

export function activeReplicaSets(rss: RSs): ReplicaSet[] {
  return rss.filter((rs): rs is ReplicaSet => rs !== undefined && specReplicas(rs) > 0);
}

const created = (o: KubeObject) => Date.parse(o.metadata.creationTimestamp ?? "") || 0;

/** controller.ReplicaSetsByCreationTimestamp: oldest first, then by name. */
export function byCreation(a: KubeObject, b: KubeObject): number {
  const d = created(a) - created(b);
  if (d !== 0) return d;
  return a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0;
}

/** ReplicaSetsBySizeOlder: largest first; equal sizes oldest first. */
export function bySizeOlder(a: ReplicaSet, b: ReplicaSet): number {
  return specReplicas(b) - specReplicas(a) || byCreation(a, b);
}

/** ReplicaSetsBySizeNewer: largest first; equal sizes newest first. */
export function bySizeNewer(a: ReplicaSet, b: ReplicaSet): number {
  return specReplicas(b) - specReplicas(a) || byCreation(b, a);
}

/** The revision annotation; NaN when it does not parse (such sets are skipped, as kube skips them). */
export function revision(o: KubeObject): number {
  const v = o.metadata.annotations?.[REVISION];
  if (v === undefined) return 0;
  return /^[-+]?\d+$/.test(v) ? Number(v) : Number.NaN;
}

export function maxRevision(rss: ReplicaSet[]): number {
  let max = 0;
  for (const rs of rss) {
    const v = revision(rs);
    if (!Number.isNaN(v) && v > max) max = v;
  }
  return max;
}

/** ReplicaSetsByRevision: oldest revision first, then by creation. */
export function byRevision(a: ReplicaSet, b: ReplicaSet): number {
  const ra = revision(a) || 0;
  const rb = revision(b) || 0;
  return ra === rb ? byCreation(a, b) : ra - rb;
}

/** FindNewReplicaSet: the oldest ReplicaSet whose template equals the Deployment's, ignoring the hash. */
export function findNewReplicaSet(d: Deployment, rss: ReplicaSet[]): ReplicaSet | undefined {
  return [...rss].sort(byCreation).find((rs) => equalIgnoreHash(rs.spec.template, d.spec.template));
}

export function findOldReplicaSets(d: Deployment, rss: ReplicaSet[]): ReplicaSet[] {
  const newRS = findNewReplicaSet(d, rss);
  return rss.filter((rs) => rs.metadata.uid !== newRS?.metadata.uid);
}

const SKIPPED = new Set([
  LAST_APPLIED,
  REVISION,
  REVISION_HISTORY,
  DESIRED_REPLICAS,
  MAX_REPLICAS,
  ROLLBACK_TO,
]);

/** SetReplicasAnnotations: desired and max (desired + surge) replicas; true when they changed. */
export function setReplicasAnnotations(annotations: Record<string, string>, d: Deployment): boolean {
  const want = { [DESIRED_REPLICAS]: String(desired(d)), [MAX_REPLICAS]: String(desired(d) + maxSurge(d)) };
  let changed = false;
  for (const [k, v] of Object.entries(want)) {
    if (annotations[k] !== v) {
      annotations[k] = v;
      changed = true;
    }
  }
  return changed;
}

export function replicasAnnotationsNeedUpdate(rs: ReplicaSet, d: Deployment): boolean {
  return setReplicasAnnotations({ ...rs.metadata.annotations }, d);
}

/**
 * SetNewReplicaSetAnnotations: copies the Deployment's annotations (but kube's own), raises the revision
 * (keeping the old one in revision-history), and on a new set adds the replicas annotations.
 */
export function newReplicaSetAnnotations(
  d: Deployment,
  current: Record<string, string> | undefined,
  newRevision: number,
  exists: boolean,
): { annotations: Record<string, string>; changed: boolean } {
  const a = { ...current };
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
    if (SKIPPED.has(k) || (k in a && a[k] === v)) continue;
    a[k] = v;
    changed = true;
  }
  const old = a[REVISION];
  let oldRevision = 0;
  if (old !== undefined && old !== "") {
    if (!/^[-+]?\d+$/.test(old)) return { annotations: a, changed: false };
    oldRevision = Number(old);
  }
  if (oldRevision < newRevision) {
    a[REVISION] = String(newRevision);
    changed = true;
    if (old !== undefined) {
      const history = a[REVISION_HISTORY] ?? "";
      const revisions = history.split(",");
      if (revisions[0] === "") a[REVISION_HISTORY] = old;
      else {
        let total = history.length + old.length + 1;
        let start = 0;
        while (total > MAX_REVISION_HISTORY_CHARS && start < revisions.length) {
          total -= revisions[start]!.length + 1;
          start++;
        }
        if (total <= MAX_REVISION_HISTORY_CHARS)
          a[REVISION_HISTORY] = [...revisions.slice(start), old].join(",");
      }
    }
  }
  if (!exists && setReplicasAnnotations(a, d)) changed = true;
  return { annotations: a, changed };
}

function intAnnotation(rs: ReplicaSet, key: string): number | undefined {
  const v = rs.metadata.annotations?.[key];
  return v !== undefined && /^[-+]?\d+$/.test(v) ? Number(v) : undefined;
}

/** IsSaturated: the new set runs all desired replicas, all available. */
export function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (!rs) return false;
  const want = intAnnotation(rs, DESIRED_REPLICAS);
  if (want === undefined) return false;
  return (
    specReplicas(rs) === desired(d) &&
    want === desired(d) &&
    (rs.status?.availableReplicas ?? 0) === desired(d)
  );
}

/** FindActiveOrLatest: the only active set, or the newest when none is active; undefined for several. */
export function findActiveOrLatest(
  newRS: ReplicaSet | undefined,
  oldRSs: ReplicaSet[],
): ReplicaSet | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const newestFirst = [...oldRSs].sort((a, b) => byCreation(b, a));
  const active = activeReplicaSets([...newestFirst, newRS]);
  if (active.length === 0) return newRS ?? newestFirst[0];
  return active.length === 1 ? active[0] : undefined;
}

/** GetDesiredReplicasAnnotation for isScalingEvent. */
export function desiredReplicasAnnotation(rs: ReplicaSet): number | undefined {
  return intAnnotation(rs, DESIRED_REPLICAS);
}

/** Go's math.Round, as integer.RoundToInt32 uses it (halves away from zero). */
const round = (x: number) => Math.sign(x) * Math.round(Math.abs(x));

function replicaSetFraction(rs: ReplicaSet, d: Deployment): number {
  if (desired(d) === 0) return -specReplicas(rs);
  const deploymentReplicas = desired(d) + maxSurge(d);
  const annotated = intAnnotation(rs, MAX_REPLICAS) ?? d.status?.replicas ?? 0;
  if (annotated === 0) return 0;
  return round((specReplicas(rs) * deploymentReplicas) / annotated) - specReplicas(rs);
}

/** GetProportion: this set's share of the replicas being added (or removed), within what is left. */
export function proportion(rs: ReplicaSet, d: Deployment, toAdd: number, added: number): number {
  if (specReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = replicaSetFraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

export function hasProgressDeadline(d: Deployment): boolean {
  return d.spec.progressDeadlineSeconds !== undefined && d.spec.progressDeadlineSeconds !== MAX_INT32;
}

export function deploymentComplete(d: Deployment, s: DeploymentStatus): boolean {
  const n = desired(d);
  return (
    (s.updatedReplicas ?? 0) === n &&
    (s.replicas ?? 0) === n &&
    (s.availableReplicas ?? 0) === n &&
    (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0)
  );
}

export function deploymentProgressing(d: Deployment, s: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (
    (s.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (s.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (s.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

export function deploymentTimedOut(d: Deployment, s: DeploymentStatus, now: Date): boolean {
  if (!hasProgressDeadline(d)) return false;
  const c = getCondition(s, "Progressing");
  if (!c) return false;
  if (c.reason === "NewReplicaSetAvailable") return false;
  if (c.reason === "ProgressDeadlineExceeded") return true;
  const from = Date.parse(c.lastUpdateTime ?? "") || 0;
  return from + d.spec.progressDeadlineSeconds! * 1000 < now.getTime();
}

export function getCondition<C extends { type: string }>(
  s: { conditions?: C[] } | undefined,
  type: string,
): C | undefined {
  return s?.conditions?.find((c) => c.type === type);
}

export function removeCondition<C extends { type: string }>(s: { conditions?: C[] }, type: string): void {
  const rest = (s.conditions ?? []).filter((c) => c.type !== type);
  if (rest.length > 0) s.conditions = rest;
  else delete s.conditions;
}

/** SetDeploymentCondition (and SetCondition for ReplicaSets): same status and reason is no change. */
export function setCondition<
  C extends { type: string; status: string; reason?: string; lastTransitionTime?: string },
>(s: { conditions?: C[] }, condition: C): void {
  const current = getCondition(s, condition.type);
  if (current && current.status === condition.status && current.reason === condition.reason) return;
  const c = { ...condition };
  if (current && current.status === c.status) c.lastTransitionTime = current.lastTransitionTime;
  s.conditions = [...(s.conditions ?? []).filter((x) => x.type !== c.type), c];
}

export function newDeploymentCondition(
  type: string,
  status: string,
  reason: string,
  message: string,
  now: string,
): DeploymentCondition {
  return { type, status, lastUpdateTime: now, lastTransitionTime: now, reason, message };
}
