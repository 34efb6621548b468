// The Deployment controller (kube's pkg/controller/deployment) inside the test server: claims the
// Deployment's ReplicaSets, creates the new one (<name>-<pod-template-hash>, revision annotations),
// rolls out with RollingUpdate or Recreate, scales proportionally on scaling events and while paused,
// cleans up beyond revisionHistoryLimit and writes status and conditions. The decisions are the pure
// functions of deployment-rollout.ts and deployment-status.ts; this file reads, writes and records.
import type { Logger } from "../../../lib/log.ts";
import { ApiError } from "../errors.ts";
import { timestamp } from "../object-meta.ts";
import type { Objects } from "../objects.ts";
import type { ResourceType } from "../registry.ts";
import type { KubeObject, StoredEvent } from "../storage.ts";
import { claim, controllerRef, newControllerRef, withControllerRef, withoutOwner } from "./claims.ts";
import {
  cleanupCandidates,
  isScalingEvent,
  newRSNewReplicas,
  proportionalScale,
  recreateStep,
  rollingStep,
  type ScaleOp,
} from "./deployment-rollout.ts";
import { pausedConditionStatus, plainStatus, rolloutStatus } from "./deployment-status.ts";
import {
  actualReplicaCount,
  type Deployment,
  type DeploymentStatus,
  deploymentComplete,
  desiredReplicasAnnotation,
  findNewReplicaSet,
  findOldReplicaSets,
  getCondition,
  hasProgressDeadline,
  maxRevision,
  newDeploymentCondition,
  newReplicaSetAnnotations,
  REVISION,
  type ReplicaSet,
  setCondition,
  setReplicasAnnotations,
} from "./deployment-util.ts";
import { EventRecorder } from "./event-recorder.ts";
import { selectorMatches } from "./label-selector.ts";
import { controlledBy, OrphanIndex } from "./orphans.ts";
import { computeHash, equalIgnoreHash, POD_TEMPLATE_HASH } from "./pod-template-hash.ts";
import {
  isNotFound,
  keyOf,
  messageOf,
  namespaceTerminating,
  read,
  resolveRef,
  resourceType,
  splitKey,
} from "./shared.ts";
import { type HandleResult, WorkQueue } from "./work-queue.ts";

export class DeploymentController {
  private readonly objects: Objects;
  private readonly events: EventRecorder;
  private readonly queue: WorkQueue;
  private readonly orphans: OrphanIndex;
  private readonly dType: ResourceType;
  private readonly rsType: ResourceType;
  private readonly podType: ResourceType;
  private stopListening: () => void = () => {};

  constructor(objects: Objects, log?: Logger) {
    this.objects = objects;
    this.events = new EventRecorder(objects, "deployment-controller");
    this.queue = new WorkQueue("deployment controller", (key) => this.sync(key), log);
    this.dType = resourceType(objects, "apps", "deployments");
    this.rsType = resourceType(objects, "apps", "replicasets");
    this.podType = objects.registry.find("", "v1", "pods")!;
    this.orphans = new OrphanIndex(objects.store, this.rsType.collection);
  }

  start(): void {
    this.orphans.start();
    this.stopListening = this.objects.store.listen((c, e) => {
      if (c.name === this.dType.collection) this.queue.add(keyOf(e.object));
      else if (c.name === this.rsType.collection) this.observeReplicaSet(e);
      else if (c.name === this.podType.collection && e.type === "DELETED") this.observePodGone(e.object);
    });
    for (const d of this.objects.store.collection(this.dType.collection).list()) this.queue.add(keyOf(d));
  }

  stop(): void {
    this.stopListening();
    this.orphans.stop();
    this.queue.stop();
  }

  private observeReplicaSet(e: StoredEvent): void {
    const ns = e.object.metadata.namespace!;
    for (const rs of [e.previous, e.object]) {
      const d = rs && resolveRef<Deployment>(this.objects, this.dType, ns, controllerRef(rs));
      if (d) this.queue.add(keyOf(d));
    }
    if (e.type === "DELETED" || controllerRef(e.object)) return;
    for (const d of this.objects.store.collection(this.dType.collection).list(ns)) {
      if (selectorMatches((d as Deployment).spec?.selector, e.object.metadata.labels))
        this.queue.add(keyOf(d));
    }
  }

  /** Recreate waits for the old pods to be gone: their deletion wakes the Deployment. */
  private observePodGone(pod: KubeObject): void {
    const ns = pod.metadata.namespace!;
    const rs = resolveRef<ReplicaSet>(this.objects, this.rsType, ns, controllerRef(pod));
    const d = rs && resolveRef<Deployment>(this.objects, this.dType, ns, controllerRef(rs));
    if (d?.spec.strategy?.type === "Recreate") this.queue.add(keyOf(d));
  }

  private sync(key: string): HandleResult | undefined {
    const [ns, name] = splitKey(key);
    let d = read<Deployment>(this.objects, this.dType, ns, name);
    if (!d) return undefined;
    const rsList = this.claimReplicaSets(d);
    if (d.metadata.deletionTimestamp) return this.syncScaleOnly(d, rsList, false);
    const paused = pausedConditionStatus(d, this.objects.env.now());
    if (paused) d = this.writeStatus(d, paused);
    if (d.spec.paused) return this.syncScaleOnly(d, rsList, true);
    const { newRS, oldRSs } = this.replicaSets(d, rsList, false);
    if (isScalingEvent(d, [...oldRSs, newRS.rs], desiredReplicasAnnotation))
      return this.syncScaleOnly(newRS.d, rsList, true);
    return d.spec.strategy?.type === "Recreate"
      ? this.recreate(newRS.d, rsList)
      : this.rolling(newRS.d, rsList);
  }

  /** getReplicaSetsForDeployment: the Deployment's sets, adopting and releasing by selector. */
  private claimReplicaSets(d: Deployment): ReplicaSet[] {
    const owner = {
      uid: d.metadata.uid!,
      namespace: d.metadata.namespace,
      deleting: !!d.metadata.deletionTimestamp,
    };
    const seen = new Map<string, KubeObject>();
    for (const rs of [
      ...controlledBy(this.objects.store, this.rsType.collection, d.metadata.uid!),
      ...this.orphans.orphans(d.metadata.namespace!),
    ])
      seen.set(rs.metadata.name!, rs);
    const out: ReplicaSet[] = [];
    let failed: unknown;
    for (const stored of seen.values()) {
      const rs = this.objects.view(this.rsType, stored) as ReplicaSet;
      const decision = claim(owner, rs, selectorMatches(d.spec.selector, rs.metadata.labels));
      try {
        if (decision === "owned") out.push(rs);
        else if (decision === "adopt") {
          const fresh = read<Deployment>(this.objects, this.dType, d.metadata.namespace!, d.metadata.name!);
          if (!fresh || fresh.metadata.uid !== d.metadata.uid || fresh.metadata.deletionTimestamp) continue;
          out.push(this.updateRS(withControllerRef(rs, newControllerRef(d)) as ReplicaSet));
        } else if (decision === "release") this.updateRS(withoutOwner(rs, d.metadata.uid!) as ReplicaSet);
      } catch (error) {
        if (!isNotFound(error)) failed ??= error;
      }
    }
    if (failed !== undefined) throw failed;
    return out;
  }

  private updateRS(rs: ReplicaSet): ReplicaSet {
    return this.objects.update(this.rsType, rs.metadata.namespace, rs.metadata.name!, rs, {
      fieldValidation: "Ignore",
    }).object as ReplicaSet;
  }

  private writeStatus(d: Deployment, status: DeploymentStatus): Deployment {
    return this.objects.update(
      this.dType,
      d.metadata.namespace,
      d.metadata.name!,
      { ...d, status },
      {
        subresource: "status",
        fieldValidation: "Ignore",
      },
    ).object as Deployment;
  }

  /** The revision annotation goes through the main resource, the status through /status. */
  private writeDeployment(
    d: Deployment,
    annotations: Record<string, string>,
    status: DeploymentStatus,
  ): Deployment {
    let current = d;
    if (JSON.stringify(annotations) !== JSON.stringify(d.metadata.annotations ?? {})) {
      current = this.objects.update(
        this.dType,
        d.metadata.namespace,
        d.metadata.name!,
        {
          ...d,
          metadata: { ...d.metadata, annotations },
        },
        { fieldValidation: "Ignore" },
      ).object as Deployment;
    }
    if (JSON.stringify(status) !== JSON.stringify(current.status ?? {}))
      current = this.writeStatus(current, status);
    return current;
  }

  /**
   * getAllReplicaSetsAndSyncRevision: the new set (created when asked and missing) with its annotations
   * synced, the old sets, and the Deployment as it is after any write.
   */
  private replicaSets(
    d: Deployment,
    rsList: ReplicaSet[],
    create: boolean,
  ): { newRS: { rs: ReplicaSet | undefined; d: Deployment }; oldRSs: ReplicaSet[] } {
    // Earlier steps of this sync may have written some sets: decide on their latest versions.
    const fresh = rsList
      .map((rs) => read<ReplicaSet>(this.objects, this.rsType, rs.metadata.namespace!, rs.metadata.name!))
      .filter(
        (rs): rs is ReplicaSet => rs !== undefined && rsList.some((x) => x.metadata.uid === rs.metadata.uid),
      );
    const oldRSs = findOldReplicaSets(d, fresh);
    const existing = findNewReplicaSet(d, fresh);
    const newRevision = maxRevision(oldRSs) + 1;
    const now = timestamp(this.objects.env.now());
    if (existing) {
      const { annotations, changed } = newReplicaSetAnnotations(
        d,
        existing.metadata.annotations,
        newRevision,
        true,
      );
      const minReady = d.spec.minReadySeconds ?? 0;
      if (changed || (existing.spec.minReadySeconds ?? 0) !== minReady) {
        const rs = this.updateRS({
          ...existing,
          metadata: { ...existing.metadata, annotations },
          spec: { ...existing.spec, minReadySeconds: minReady || undefined },
        });
        return { newRS: { rs, d }, oldRSs };
      }
      const dAnnotations = { ...d.metadata.annotations };
      const status = structuredClone(d.status ?? {});
      const rev = existing.metadata.annotations?.[REVISION];
      if (rev !== undefined) dAnnotations[REVISION] = rev;
      if (hasProgressDeadline(d) && !getCondition(d.status, "Progressing")) {
        setCondition(
          status,
          newDeploymentCondition(
            "Progressing",
            "True",
            "FoundNewReplicaSet",
            `Found new replica set "${existing.metadata.name}"`,
            now,
          ),
        );
      }
      return { newRS: { rs: existing, d: this.writeDeployment(d, dAnnotations, status) }, oldRSs };
    }
    if (!create) return { newRS: { rs: undefined, d }, oldRSs };
    return { newRS: this.createReplicaSet(d, oldRSs, newRevision, now), oldRSs };
  }

  private createReplicaSet(
    d: Deployment,
    oldRSs: ReplicaSet[],
    newRevision: number,
    now: string,
  ): { rs: ReplicaSet | undefined; d: Deployment } {
    const template = structuredClone(d.spec.template ?? {});
    const hash = computeHash(template, d.status?.collisionCount);
    const labels = { ...template.metadata?.labels, [POD_TEMPLATE_HASH]: hash };
    const selector = structuredClone(d.spec.selector ?? {});
    selector.matchLabels = { ...selector.matchLabels, [POD_TEMPLATE_HASH]: hash };
    const name = `${d.metadata.name}-${hash}`;
    const body: ReplicaSet = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name, namespace: d.metadata.namespace, labels, ownerReferences: [newControllerRef(d)] },
      spec: {
        replicas: 0,
        minReadySeconds: d.spec.minReadySeconds || undefined,
        selector,
        template: { ...template, metadata: { ...template.metadata, labels } },
      },
    };
    body.spec.replicas = newRSNewReplicas(d, [...oldRSs, body], body);
    body.metadata.annotations = newReplicaSetAnnotations(d, undefined, newRevision, false).annotations;
    let created: ReplicaSet;
    let alreadyExists = false;
    try {
      created = this.objects.create(this.rsType, d.metadata.namespace, body, { fieldValidation: "Ignore" })
        .object as ReplicaSet;
    } catch (error) {
      if (error instanceof ApiError && error.code === 409 && error.reason === "AlreadyExists") {
        const rs = read<ReplicaSet>(this.objects, this.rsType, d.metadata.namespace!, name);
        if (
          rs &&
          controllerRef(rs)?.uid === d.metadata.uid &&
          equalIgnoreHash(d.spec.template, rs.spec.template)
        ) {
          created = rs;
          alreadyExists = true;
        } else {
          // A hash collision: the next sync hashes with a higher collisionCount.
          this.writeStatus(d, {
            ...structuredClone(d.status ?? {}),
            collisionCount: (d.status?.collisionCount ?? 0) + 1,
          });
          throw error;
        }
      } else if (namespaceTerminating(error)) {
        throw error;
      } else {
        const msg = `Failed to create new replica set "${name}": ${messageOf(error)}`;
        if (hasProgressDeadline(d)) {
          const status = structuredClone(d.status ?? {});
          setCondition(
            status,
            newDeploymentCondition("Progressing", "False", "ReplicaSetCreateError", msg, now),
          );
          this.writeStatus(d, status);
        }
        this.events.event(d, "Warning", "ReplicaSetCreateError", msg);
        throw error;
      }
    }
    const replicas = created.spec.replicas ?? 0;
    if (!alreadyExists && replicas > 0) {
      this.events.event(
        d,
        "Normal",
        "ScalingReplicaSet",
        `Scaled up replica set ${created.metadata.name} from 0 to ${replicas}`,
      );
    }
    const status = structuredClone(d.status ?? {});
    if (!alreadyExists && hasProgressDeadline(d)) {
      setCondition(
        status,
        newDeploymentCondition(
          "Progressing",
          "True",
          "NewReplicaSetCreated",
          `Created new replica set "${created.metadata.name}"`,
          now,
        ),
      );
    }
    const annotations = { ...d.metadata.annotations, [REVISION]: String(newRevision) };
    return { rs: created, d: this.writeDeployment(d, annotations, status) };
  }

  /** scaleReplicaSet: size and replicas annotations in one write; ScalingReplicaSet when the size moved. */
  private scale(d: Deployment, rs: ReplicaSet, op: ScaleOp, up: boolean, event: boolean): void {
    const annotations = { ...rs.metadata.annotations };
    setReplicasAnnotations(annotations, d);
    const updated = this.updateRS({
      ...rs,
      metadata: { ...rs.metadata, annotations },
      spec: { ...rs.spec, replicas: op.to },
    });
    if (event && op.from !== op.to) {
      this.events.event(
        d,
        "Normal",
        "ScalingReplicaSet",
        `Scaled ${up ? "up" : "down"} replica set ${updated.metadata.name} from ${op.from} to ${op.to}`,
      );
    }
  }

  private apply(d: Deployment, rss: (ReplicaSet | undefined)[], ops: ScaleOp[]): void {
    const byName = new Map(rss.filter((r): r is ReplicaSet => !!r).map((r) => [r.metadata.name!, r]));
    for (const op of ops) {
      // Several ops may touch one set (cleanup, then scale-down): each starts from its latest version.
      const rs =
        read<ReplicaSet>(this.objects, this.rsType, d.metadata.namespace!, op.name) ?? byName.get(op.name);
      if (rs) this.scale(d, rs, op, op.to > op.from, true);
    }
  }

  private cleanup(d: Deployment, oldRSs: ReplicaSet[]): void {
    for (const name of cleanupCandidates(d, oldRSs)) {
      try {
        this.objects.delete(this.rsType, d.metadata.namespace, name);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
  }

  private finish(
    d: Deployment,
    allRSs: (ReplicaSet | undefined)[],
    newRS: ReplicaSet | undefined,
  ): HandleResult | undefined {
    const { status, requeueAfterMs } = rolloutStatus(d, allRSs, newRS, this.objects.env.now());
    if (status) this.writeStatus(d, status);
    return requeueAfterMs === undefined ? undefined : { requeueAfterMs };
  }

  private rolling(d0: Deployment, rsList: ReplicaSet[]): HandleResult | undefined {
    const {
      newRS: { rs: newRS, d },
      oldRSs,
    } = this.replicaSets(d0, rsList, true);
    const all = [...oldRSs, newRS];
    const step = rollingStep(d, newRS, oldRSs, deploymentComplete(d, d.status ?? {}));
    this.apply(d, all, step.ops);
    if (step.cleanup) this.cleanup(d, oldRSs);
    return this.finish(d, all, newRS);
  }

  private recreate(d0: Deployment, rsList: ReplicaSet[]): HandleResult | undefined {
    let {
      newRS: { rs: newRS, d },
      oldRSs,
    } = this.replicaSets(d0, rsList, false);
    let all = [...oldRSs, newRS];
    const running = this.oldPodsRunning(newRS, oldRSs);
    let step = recreateStep(d, newRS, oldRSs, running, deploymentComplete(d, d.status ?? {}));
    if (step.needsNewRS) {
      ({
        newRS: { rs: newRS, d },
        oldRSs,
      } = this.replicaSets(d, rsList, true));
      all = [...oldRSs, newRS];
      step = recreateStep(d, newRS, oldRSs, running, deploymentComplete(d, d.status ?? {}));
    }
    this.apply(d, all, step.ops);
    if (step.cleanup) this.cleanup(d, oldRSs);
    return this.finish(d, all, newRS);
  }

  /** oldPodsRunning: old sets still report replicas, or one of their pods is not finished. */
  private oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): boolean {
    if (actualReplicaCount(oldRSs) > 0) return true;
    for (const rs of oldRSs) {
      if (rs.metadata.uid === newRS?.metadata.uid) continue;
      for (const pod of controlledBy(this.objects.store, this.podType.collection, rs.metadata.uid!)) {
        const phase = (pod.status as { phase?: string } | undefined)?.phase;
        if (phase !== "Failed" && phase !== "Succeeded") return true;
      }
    }
    return false;
  }

  /** sync (and syncStatusOnly while deleting): proportional scaling, cleanup when paused, plain status. */
  private syncScaleOnly(d0: Deployment, rsList: ReplicaSet[], scale: boolean): HandleResult | undefined {
    const {
      newRS: { rs: newRS, d },
      oldRSs,
    } = this.replicaSets(d0, rsList, false);
    if (scale) {
      for (const op of proportionalScale(d, newRS, oldRSs)) {
        const rs = read<ReplicaSet>(this.objects, this.rsType, d.metadata.namespace!, op.name);
        if (rs) this.scale(d, rs, op, op.up, !op.annotationsOnly);
      }
      if (d.spec.paused) this.cleanup(d, oldRSs);
    }
    const status = plainStatus(d, [...oldRSs, newRS], newRS, this.objects.env.now());
    if (status) this.writeStatus(d, status);
    return undefined;
  }
}
