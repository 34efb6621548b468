// The disruption controller (kube's pkg/controller/disruption) inside the test server: keeps each
// PodDisruptionBudget's status — expected pods, desired and current healthy pods, disruptions allowed,
// the eviction API's disrupted pods and the DisruptionAllowed condition — from the pods it selects and
// the scale of their controllers. Woken by budget and pod events; selected pods come from a label index.
import type { Logger } from "../../../lib/log.ts";
import { ApiError } from "../errors.ts";
import type { Objects } from "../objects.ts";
import type { ResourceType } from "../registry.ts";
import type { KubeObject, StoredEvent } from "../storage.ts";
import { controllerRef } from "./claims.ts";
import type { Deployment, ReplicaSet } from "./deployment-util.ts";
import { EventRecorder } from "./event-recorder.ts";
import { LabelIndex } from "./label-index.ts";
import { protoLabelSelector, selectorMatches } from "./label-selector.ts";
import {
  type ControllerScale,
  countHealthy,
  disruptedPods,
  expectedPodCount,
  failSafeStatus,
  type PDBStatus,
  type PodDisruptionBudget,
  pdbStatus,
} from "./pdb-status.ts";
import { keyOf, messageOf, read, resolveRef, resourceType, splitKey } from "./shared.ts";
import { type HandleResult, WorkQueue } from "./work-queue.ts";

export class DisruptionController {
  private readonly objects: Objects;
  private readonly events: EventRecorder;
  private readonly queue: WorkQueue;
  private readonly pods: LabelIndex;
  private readonly pdbType: ResourceType;
  private readonly podType: ResourceType;
  private stopListening: () => void = () => {};

  constructor(objects: Objects, log?: Logger) {
    this.objects = objects;
    this.events = new EventRecorder(objects, "controllermanager");
    this.queue = new WorkQueue("disruption controller", (key) => this.sync(key), log);
    this.pdbType = resourceType(objects, "policy", "poddisruptionbudgets");
    this.podType = objects.registry.find("", "v1", "pods")!;
    this.pods = new LabelIndex(objects.store, this.podType.collection);
  }

  start(): void {
    this.pods.start();
    this.stopListening = this.objects.store.listen((c, e) => {
      if (c.name === this.pdbType.collection) this.queue.add(keyOf(e.object));
      else if (c.name === this.podType.collection) this.observePod(e);
    });
    for (const pdb of this.objects.store.collection(this.pdbType.collection).list())
      this.queue.add(keyOf(pdb));
  }

  stop(): void {
    this.stopListening();
    this.pods.stop();
    this.queue.stop();
  }

  /** getPdbForPod: the budgets selecting the pod, before and after the change. */
  private observePod(e: StoredEvent): void {
    const ns = e.object.metadata.namespace!;
    for (const pdb of this.objects.store.collection(this.pdbType.collection).list(ns)) {
      const selector = (pdb as PodDisruptionBudget).spec?.selector;
      const hit = [e.previous, e.object].some((p) => p && selectorMatches(selector, p.metadata.labels));
      if (hit) this.queue.add(keyOf(pdb));
    }
  }

  private sync(key: string): HandleResult | undefined {
    const [ns, name] = splitKey(key);
    const pdb = read<PodDisruptionBudget>(this.objects, this.pdbType, ns, name);
    if (!pdb) return undefined;
    try {
      return this.trySync(pdb);
    } catch (error) {
      if (error instanceof ApiError && error.code === 409) throw error;
      this.writeStatus(pdb, failSafeStatus(pdb, messageOf(error), this.objects.env.now()));
      return undefined;
    }
  }

  private trySync(pdb: PodDisruptionBudget): HandleResult | undefined {
    const now = this.objects.env.now();
    const pods = this.pods.select(pdb.metadata.namespace!, pdb.spec.selector);
    if (pods.length === 0) this.events.event(pdb, "Normal", "NoPods", "No matching pods found");
    let counts: ReturnType<typeof expectedPodCount>;
    try {
      counts = expectedPodCount(pdb, pods, this.scaleOf);
    } catch (error) {
      this.events.event(
        pdb,
        "Warning",
        "CalculateExpectedPodCountFailed",
        `Failed to calculate the number of expected pods: ${messageOf(error)}`,
      );
      throw error;
    }
    if (counts.unmanaged.length > 0) {
      this.events.event(
        pdb,
        "Warning",
        "UnmanagedPods",
        `Pods selected by this PodDisruptionBudget (selector: ${protoLabelSelector(pdb.spec.selector)}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.`,
      );
    }
    const { disrupted, recheckAt, overdue } = disruptedPods(pdb, pods, now);
    for (const pod of overdue) {
      // kube's message names the budget's namespace twice.
      this.events.event(
        pod,
        "Warning",
        "NotDeleted",
        `Pod was expected by PDB ${pdb.metadata.namespace}/${pdb.metadata.namespace} to be deleted but it wasn't`,
      );
    }
    const status = pdbStatus(
      pdb,
      {
        currentHealthy: countHealthy(pods, disrupted, now),
        desiredHealthy: counts.desiredHealthy,
        expected: counts.expected,
      },
      disrupted,
      now,
    );
    if (status) this.writeStatus(pdb, status);
    return recheckAt === undefined ? undefined : { requeueAfterMs: recheckAt - now.getTime() };
  }

  private writeStatus(pdb: PodDisruptionBudget, status: PDBStatus): void {
    this.objects.update(
      this.pdbType,
      pdb.metadata.namespace,
      pdb.metadata.name!,
      { ...pdb, status },
      {
        subresource: "status",
        fieldValidation: "Ignore",
      },
    );
  }

  /** The finders: Deployment (through its ReplicaSet), ReplicaSet, then any kind with a scale subresource. */
  private readonly scaleOf: ControllerScale = (pod: KubeObject) => {
    const ref = controllerRef(pod);
    if (!ref) return undefined;
    const ns = pod.metadata.namespace!;
    const rsType = this.objects.registry.find("apps", "v1", "replicasets")!;
    const rs = resolveRef<ReplicaSet>(this.objects, rsType, ns, ref);
    if (rs) {
      const dType = this.objects.registry.find("apps", "v1", "deployments")!;
      const d = resolveRef<Deployment>(this.objects, dType, ns, controllerRef(rs));
      if (d) return { uid: d.metadata.uid!, scale: d.spec.replicas ?? 1 };
      return { uid: rs.metadata.uid!, scale: rs.spec.replicas ?? 1 };
    }
    const t = this.objects.registry.byKind(ref.apiVersion, ref.kind);
    if (!t) return { error: `no matches for kind "${ref.kind}" in version "${ref.apiVersion}"` };
    const qualified = t.group ? `${t.resource}.${t.group}` : t.resource;
    if (!t.subresources.includes("scale"))
      return { error: `${qualified} does not implement the scale subresource` };
    const owner = read<KubeObject>(this.objects, t, ns, ref.name);
    if (!owner || owner.metadata.uid !== ref.uid)
      return { error: `found no controllers for pod "${pod.metadata.name}"` };
    return {
      uid: owner.metadata.uid!,
      scale: (owner.spec as { replicas?: number } | undefined)?.replicas ?? 0,
    };
  };
}
