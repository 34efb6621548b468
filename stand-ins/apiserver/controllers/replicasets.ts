// The ReplicaSet controller (kube's pkg/controller/replicaset) inside the test server: keeps each set's
// active pods at spec.replicas — adopting matching orphans, releasing pods it no longer selects,
// replacing pods that failed, finished, were deleted or evicted — and reports status. Pods are created
// through the object lifecycle, admission included, exactly as an HTTP create; refusals become
// FailedCreate events and the ReplicaFailure condition. Asynchronous and level-triggered from store
// events; a sync reads the set's own pods and its namespace's orphans, never every pod.
import type { Logger } from "../../../lib/log.ts";
import type { Objects } from "../objects.ts";
import type { ResourceType } from "../registry.ts";
import type { KubeObject, StoredEvent } from "../storage.ts";
import { claim, controllerRef, newControllerRef, withControllerRef, withoutOwner } from "./claims.ts";
import type { ReplicaSet } from "./deployment-util.ts";
import { EventRecorder } from "./event-recorder.ts";
import { selectorMatches } from "./label-selector.ts";
import { controlledBy, OrphanIndex } from "./orphans.ts";
import { isPodActive } from "./pod-state.ts";
import {
  BURST_REPLICAS,
  nextAvailableInMs,
  podFromTemplate,
  podsToDelete,
  replicaSetStatus,
  slowStartBatches,
  statusToWrite,
} from "./replica-set-sync.ts";
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

export class ReplicaSetController {
  private readonly objects: Objects;
  private readonly events: EventRecorder;
  private readonly queue: WorkQueue;
  private readonly orphans: OrphanIndex;
  private readonly rsType: ResourceType;
  private readonly podType: ResourceType;
  private stopListening: () => void = () => {};

  constructor(objects: Objects, log?: Logger) {
    this.objects = objects;
    this.events = new EventRecorder(objects, "replicaset-controller");
    this.queue = new WorkQueue("replicaset controller", (key) => this.sync(key), log);
    this.rsType = resourceType(objects, "apps", "replicasets");
    this.podType = objects.registry.find("", "v1", "pods")!;
    this.orphans = new OrphanIndex(objects.store, this.podType.collection);
  }

  start(): void {
    this.orphans.start();
    this.stopListening = this.objects.store.listen((c, e) => {
      if (c.name === this.rsType.collection) this.queue.add(keyOf(e.object));
      else if (c.name === this.podType.collection) this.observePod(e);
    });
    for (const rs of this.objects.store.collection(this.rsType.collection).list()) this.queue.add(keyOf(rs));
  }

  stop(): void {
    this.stopListening();
    this.orphans.stop();
    this.queue.stop();
  }

  /** A pod event wakes its controller (before and after), or, for an orphan, every set selecting it. */
  private observePod(e: StoredEvent): void {
    const ns = e.object.metadata.namespace!;
    for (const pod of [e.previous, e.object]) {
      const rs = pod && resolveRef<ReplicaSet>(this.objects, this.rsType, ns, controllerRef(pod));
      if (rs) this.queue.add(keyOf(rs));
    }
    const pod = e.object;
    if (e.type === "DELETED" || controllerRef(pod)) return;
    const labelsChanged = JSON.stringify(e.previous?.metadata.labels) !== JSON.stringify(pod.metadata.labels);
    const refChanged = e.previous !== undefined && controllerRef(e.previous) !== undefined;
    if (e.type === "ADDED" || labelsChanged || refChanged) {
      for (const rs of this.objects.store.collection(this.rsType.collection).list(ns)) {
        if (selectorMatches((rs as ReplicaSet).spec?.selector, pod.metadata.labels))
          this.queue.add(keyOf(rs));
      }
    }
  }

  private sync(key: string): HandleResult | undefined {
    const [ns, name] = splitKey(key);
    const rs = read<ReplicaSet>(this.objects, this.rsType, ns, name);
    if (!rs) return undefined;
    const now = this.objects.env.now();
    const candidates = new Map<string, KubeObject>();
    for (const p of [
      ...controlledBy(this.objects.store, this.podType.collection, rs.metadata.uid!),
      ...this.orphans.orphans(ns),
    ])
      if (isPodActive(p)) candidates.set(p.metadata.name!, p);
    const { pods, error: claimError } = this.claimPods(rs, [...candidates.values()]);
    let manageError: unknown;
    if (!rs.metadata.deletionTimestamp) {
      try {
        this.manageReplicas(rs, pods);
      } catch (error) {
        manageError = error;
      }
    }
    const fresh = read<ReplicaSet>(this.objects, this.rsType, ns, name);
    if (fresh && fresh.metadata.uid === rs.metadata.uid) {
      const status = statusToWrite(
        fresh,
        replicaSetStatus(fresh, pods, manageError === undefined ? undefined : messageOf(manageError), now),
      );
      if (status) {
        this.objects.update(
          this.rsType,
          ns,
          name,
          { ...fresh, status },
          { subresource: "status", fieldValidation: "Ignore" },
        );
      }
    }
    if (manageError !== undefined) throw manageError;
    if (claimError !== undefined) throw claimError;
    const next = nextAvailableInMs(rs, pods, now);
    return next === undefined ? undefined : { requeueAfterMs: next };
  }

  /** ClaimPods: keeps owned selected pods, adopts selected orphans, releases owned unselected ones. */
  private claimPods(rs: ReplicaSet, candidates: KubeObject[]): { pods: KubeObject[]; error?: unknown } {
    const owner = {
      uid: rs.metadata.uid!,
      namespace: rs.metadata.namespace,
      deleting: !!rs.metadata.deletionTimestamp,
    };
    const pods: KubeObject[] = [];
    let error: unknown;
    for (const pod of candidates) {
      const decision = claim(owner, pod, selectorMatches(rs.spec.selector, pod.metadata.labels));
      try {
        if (decision === "owned") pods.push(pod);
        else if (decision === "adopt") {
          // RecheckDeletionTimestamp: adopt only for a set that is still there and not being deleted.
          const fresh = read<ReplicaSet>(
            this.objects,
            this.rsType,
            rs.metadata.namespace!,
            rs.metadata.name!,
          );
          if (!fresh || fresh.metadata.uid !== rs.metadata.uid || fresh.metadata.deletionTimestamp) continue;
          const adopted = this.objects.update(
            this.podType,
            pod.metadata.namespace,
            pod.metadata.name!,
            withControllerRef(pod, newControllerRef(rs)),
            { fieldValidation: "Ignore" },
          );
          pods.push(adopted.object);
        } else if (decision === "release") {
          this.objects.update(
            this.podType,
            pod.metadata.namespace,
            pod.metadata.name!,
            withoutOwner(pod, rs.metadata.uid!),
            { fieldValidation: "Ignore" },
          );
        }
      } catch (e) {
        if (!isNotFound(e)) error ??= e;
      }
    }
    return { pods, error };
  }

  private manageReplicas(rs: ReplicaSet, pods: KubeObject[]): void {
    const diff = pods.length - (rs.spec.replicas ?? 0);
    if (diff < 0) {
      for (const batch of slowStartBatches(Math.min(-diff, BURST_REPLICAS))) {
        let failed: unknown;
        for (let i = 0; i < batch; i++) {
          try {
            this.createPod(rs);
          } catch (error) {
            failed ??= error;
          }
        }
        if (failed !== undefined) throw failed;
      }
    } else if (diff > 0) {
      const victims = podsToDelete(
        pods,
        this.relatedPods(rs),
        Math.min(diff, BURST_REPLICAS),
        this.objects.env.now(),
      );
      let failed: Error | undefined;
      for (const pod of victims) {
        try {
          this.objects.delete(this.podType, pod.metadata.namespace, pod.metadata.name!);
          this.events.event(rs, "Normal", "SuccessfulDelete", `Deleted pod: ${pod.metadata.name}`);
        } catch (error) {
          if (isNotFound(error)) continue;
          this.events.event(rs, "Warning", "FailedDelete", `Error deleting: ${messageOf(error)}`);
          failed ??= new Error(`unable to delete pods: ${messageOf(error)}`);
        }
      }
      if (failed) throw failed;
    }
  }

  private createPod(rs: ReplicaSet): void {
    const body = podFromTemplate(rs);
    if (Object.keys(body.metadata.labels ?? {}).length === 0)
      throw new Error("unable to create pods, no labels");
    try {
      const created = this.objects.create(this.podType, rs.metadata.namespace, body, {
        fieldValidation: "Ignore",
      });
      this.events.event(rs, "Normal", "SuccessfulCreate", `Created pod: ${created.object.metadata.name}`);
    } catch (error) {
      // Nothing can be created in a namespace that is going away: not a failure worth reporting.
      if (namespaceTerminating(error)) return;
      this.events.event(rs, "Warning", "FailedCreate", `Error creating: ${messageOf(error)}`);
      throw error;
    }
  }

  /** getIndirectlyRelatedPods: the pods of every set with the same controller, for node ranks. */
  private relatedPods(rs: ReplicaSet): KubeObject[] {
    const owner = controllerRef(rs);
    if (!owner) return controlledBy(this.objects.store, this.podType.collection, rs.metadata.uid!);
    const out: KubeObject[] = [];
    for (const sibling of controlledBy(this.objects.store, this.rsType.collection, owner.uid))
      out.push(...controlledBy(this.objects.store, this.podType.collection, sibling.metadata.uid!));
    return out;
  }
}
