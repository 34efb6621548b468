// A LeaseStore over the coordination.k8s.io/v1 API.
import { CoordinationV1Api, type KubeConfig, type V1Lease, V1MicroTime } from "@kubernetes/client-node";
import { isNotFound } from "../kube-errors.ts";
import type { LeaseRecord, LeaseStore, StoredLease } from "./leader-election.ts";

function toRecord(lease: V1Lease): StoredLease {
  const spec = lease.spec ?? {};
  return {
    version: lease.metadata?.resourceVersion ?? "",
    record: {
      holderIdentity: spec.holderIdentity,
      leaseDurationSeconds: spec.leaseDurationSeconds,
      acquireTime: spec.acquireTime ? new Date(spec.acquireTime).toISOString() : undefined,
      renewTime: spec.renewTime ? new Date(spec.renewTime).toISOString() : undefined,
      leaseTransitions: spec.leaseTransitions,
    },
  };
}

function toSpec(record: LeaseRecord): V1Lease["spec"] {
  return {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    acquireTime: record.acquireTime ? new V1MicroTime(record.acquireTime) : undefined,
    renewTime: record.renewTime ? new V1MicroTime(record.renewTime) : undefined,
    leaseTransitions: record.leaseTransitions,
  };
}

export function kubeLeaseStore(kubeConfig: KubeConfig, namespace: string, name: string): LeaseStore {
  const api = kubeConfig.makeApiClient(CoordinationV1Api);
  return {
    async get() {
      try {
        return toRecord(await api.readNamespacedLease({ name, namespace }));
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async create(record) {
      const body: V1Lease = {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name, namespace },
        spec: toSpec(record),
      };
      return toRecord(await api.createNamespacedLease({ namespace, body }));
    },
    async update(record, version) {
      const body: V1Lease = {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name, namespace, resourceVersion: version },
        spec: toSpec(record),
      };
      return toRecord(await api.replaceNamespacedLease({ name, namespace, body }));
    },
  };
}
