// The controller runtime: work queue, supervised informers, leader election, and the controller wiring.
export { type Clock, FakeClock, systemClock } from "./clock.ts";
export {
  Controller,
  type ControllerOptions,
  type ReconcileResult,
  type Reconciler,
  type Watch,
} from "./controller.ts";
export { isTerminal, TerminalError } from "./errors.ts";
export { Informer, type InformerOptions, type InformerSource, NAMESPACE_INDEX } from "./informer.ts";
export { controllerOwnerKey, keyOf, keyString, type ObjectKey, parseKey } from "./keys.ts";
export { type ResourceInformerOptions, resourceInformer } from "./kube-source.ts";
export { LeaderElector, type LeaderElectorOptions, type LeaseStore } from "./leader-election.ts";
export { kubeLeaseStore } from "./lease-store.ts";
export { runtimeMetrics } from "./metrics.ts";
export { WorkQueue } from "./work-queue.ts";
