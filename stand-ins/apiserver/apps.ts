// apps/v1 Deployments and ReplicaSets as kube-apiserver defaults and validates them
// (pkg/apis/apps/v1/defaults.go, pkg/apis/apps/validation): replicas, the selector (required,
// non-empty, valid, matching the template's labels, immutable), the template validated as a pod with
// restartPolicy Always, the rollout strategy and the timing fields.
import { metadataCauses } from "./builtin-validation.ts";
import {
  type IntOrString,
  intOrPercentNumber,
  notMoreThan100PercentCauses,
  positiveIntOrPercentCauses,
} from "./controllers/int-or-percent.ts";
import {
  goLabelSelector,
  goStringMap,
  isEmptySelector,
  type LabelSelector,
  labelSelectorCauses,
  selectorMatches,
} from "./controllers/label-selector.ts";
import type { StatusCause } from "./errors.ts";
import { podDefaults } from "./pod-defaults.ts";
import { podCauses } from "./pod-validation.ts";
import { goQuote } from "./schema/go-format.ts";
import type { KubeObject } from "./storage.ts";

type Obj = Record<string, unknown>;

interface Template {
  metadata?: KubeObject["metadata"];
  spec?: Obj;
}

// Pod defaults a template does not get: admission sets these on the pods made from it.
const POD_ONLY_DEFAULTS = [
  "priority",
  "preemptionPolicy",
  "enableServiceLinks",
  "serviceAccountName",
  "serviceAccount",
];

function templateDefaults(spec: Obj): void {
  const template = spec.template as Template | undefined;
  if (!template || typeof template !== "object" || !template.spec || typeof template.spec !== "object")
    return;
  const podSpec = template.spec;
  const had = new Set(POD_ONLY_DEFAULTS.filter((k) => podSpec[k] !== undefined));
  podDefaults({ metadata: {}, spec: podSpec });
  for (const k of POD_ONLY_DEFAULTS) if (!had.has(k)) delete podSpec[k];
  // v1 conversion keeps the deprecated serviceAccount in step with serviceAccountName.
  const account = podSpec.serviceAccountName ?? podSpec.serviceAccount;
  if (account !== undefined) {
    podSpec.serviceAccountName = account;
    podSpec.serviceAccount = account;
  }
}

export function replicaSetDefaults(o: KubeObject): void {
  const spec = (o.spec ?? {}) as Obj;
  spec.replicas ??= 1;
  templateDefaults(spec);
}

export function deploymentDefaults(o: KubeObject): void {
  const spec = (o.spec ?? {}) as Obj;
  spec.replicas ??= 1;
  const strategy = (spec.strategy ?? {}) as Obj;
  spec.strategy = strategy;
  strategy.type ??= "RollingUpdate";
  if (strategy.type === "RollingUpdate") {
    const ru = (strategy.rollingUpdate ?? {}) as Obj;
    strategy.rollingUpdate = ru;
    ru.maxUnavailable ??= "25%";
    ru.maxSurge ??= "25%";
  }
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  templateDefaults(spec);
}

const nonNegative = (value: unknown, field: string): StatusCause[] =>
  typeof value === "number" && value < 0
    ? [
        {
          reason: "FieldValueInvalid",
          message: `Invalid value: ${value}: must be greater than or equal to 0`,
          field,
        },
      ]
    : [];

/** ValidatePodTemplateSpecForReplicaSet: selector ⊆ labels, a valid pod, restartPolicy Always. */
function templateCauses(template: Template | undefined, selector: LabelSelector | undefined): StatusCause[] {
  if (!template || typeof template !== "object")
    return [{ reason: "FieldValueRequired", message: "Required value", field: "spec.template" }];
  const causes: StatusCause[] = [];
  const labels = template.metadata?.labels;
  if (selector && !isEmptySelector(selector) && !selectorMatches(selector, labels)) {
    causes.push({
      reason: "FieldValueInvalid",
      message: `Invalid value: ${goStringMap(labels)}: \`selector\` does not match template \`labels\``,
      field: "spec.template.metadata.labels",
    });
  }
  for (const c of metadataCauses({ metadata: { ...template.metadata, name: undefined } }, "none"))
    causes.push({ ...c, field: c.field?.replace(/^metadata/, "spec.template.metadata") });
  const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "template" }, spec: template.spec };
  for (const c of podCauses(pod))
    causes.push({ ...c, field: c.field?.replace(/^spec/, "spec.template.spec") });
  const spec = (template.spec ?? {}) as Obj;
  if (spec.restartPolicy !== "Always") {
    causes.push({
      reason: "FieldValueNotSupported",
      message: `Unsupported value: ${goQuote(String(spec.restartPolicy ?? ""))}: supported values: "Always"`,
      field: "spec.template.spec.restartPolicy",
    });
  }
  if (spec.activeDeadlineSeconds !== undefined) {
    causes.push({
      reason: "FieldValueInvalid",
      message: `Invalid value: ${spec.activeDeadlineSeconds}: activeDeadlineSeconds in ReplicaSet is not Supported`,
      field: "spec.template.spec.activeDeadlineSeconds",
    });
  }
  return causes;
}

const VALID_OPERATORS = new Set(["In", "NotIn", "Exists", "DoesNotExist"]);

/** The replicas / selector / template part ValidateDeploymentSpec and ValidateReplicaSetSpec share. */
function podSetCauses(spec: Obj): StatusCause[] {
  const causes = nonNegative(spec.replicas, "spec.replicas");
  const selector = spec.selector as LabelSelector | undefined;
  if (!selector || typeof selector !== "object") {
    causes.push({ reason: "FieldValueRequired", message: "Required value", field: "spec.selector" });
  } else {
    causes.push(...labelSelectorCauses(selector, "spec.selector"));
    if (isEmptySelector(selector)) {
      causes.push({
        reason: "FieldValueInvalid",
        message: `Invalid value: ${goLabelSelector(selector)}: empty selector is invalid for deployment`,
        field: "spec.selector",
      });
    }
  }
  const parses = !selector || (selector.matchExpressions ?? []).every((r) => VALID_OPERATORS.has(r.operator));
  if (parses) causes.push(...templateCauses(spec.template as Template | undefined, selector));
  else
    causes.push({
      reason: "FieldValueInvalid",
      message: `Invalid value: ${goLabelSelector(selector!)}: invalid label selector`,
      field: "spec.selector",
    });
  return causes;
}

function immutableSelector(o: KubeObject, old: KubeObject | undefined): StatusCause[] {
  if (!old) return [];
  const now = (o.spec as Obj | undefined)?.selector as LabelSelector | undefined;
  const before = (old.spec as Obj | undefined)?.selector as LabelSelector | undefined;
  if (JSON.stringify(now ?? null) === JSON.stringify(before ?? null)) return [];
  return [
    {
      reason: "FieldValueInvalid",
      message: `Invalid value: ${now ? goLabelSelector(now) : "null"}: field is immutable`,
      field: "spec.selector",
    },
  ];
}

function strategyCauses(strategy: Obj | undefined): StatusCause[] {
  const type = strategy?.type;
  const ru = strategy?.rollingUpdate as { maxSurge?: IntOrString; maxUnavailable?: IntOrString } | undefined;
  if (type === "Recreate") {
    return ru !== undefined
      ? [
          {
            reason: "FieldValueForbidden",
            message: "Forbidden: may not be specified when strategy `type` is 'Recreate'",
            field: "spec.strategy.rollingUpdate",
          },
        ]
      : [];
  }
  if (type !== "RollingUpdate") {
    return [
      {
        reason: "FieldValueNotSupported",
        message: `Unsupported value: ${goQuote(String(type ?? ""))}: supported values: "Recreate", "RollingUpdate"`,
        field: "spec.strategy",
      },
    ];
  }
  if (!ru) {
    return [
      {
        reason: "FieldValueRequired",
        message: "Required value: this should be defaulted and never be nil",
        field: "spec.strategy.rollingUpdate",
      },
    ];
  }
  const at = "spec.strategy.rollingUpdate";
  const causes = [
    ...positiveIntOrPercentCauses(ru.maxUnavailable, `${at}.maxUnavailable`),
    ...positiveIntOrPercentCauses(ru.maxSurge, `${at}.maxSurge`),
  ];
  if (intOrPercentNumber(ru.maxUnavailable) === 0 && intOrPercentNumber(ru.maxSurge) === 0) {
    const v = ru.maxUnavailable ?? 0;
    causes.push({
      reason: "FieldValueInvalid",
      message: `Invalid value: ${typeof v === "number" ? `intstr.IntOrString{Type:0, IntVal:${v}, StrVal:""}` : `intstr.IntOrString{Type:1, IntVal:0, StrVal:${goQuote(v)}}`}: may not be 0 when \`maxSurge\` is 0`,
      field: `${at}.maxUnavailable`,
    });
  }
  causes.push(...notMoreThan100PercentCauses(ru.maxUnavailable, `${at}.maxUnavailable`));
  return causes;
}

/** ValidateDeployment (+ ValidateDeploymentUpdate's immutable selector). */
export function deploymentCauses(o: KubeObject, old: KubeObject | undefined): StatusCause[] {
  const spec = (o.spec ?? {}) as Obj;
  const causes = [
    ...podSetCauses(spec),
    ...strategyCauses(spec.strategy as Obj | undefined),
    ...nonNegative(spec.minReadySeconds, "spec.minReadySeconds"),
    ...nonNegative(spec.revisionHistoryLimit, "spec.revisionHistoryLimit"),
  ];
  const deadline = spec.progressDeadlineSeconds;
  if (typeof deadline === "number") {
    causes.push(...nonNegative(deadline, "spec.progressDeadlineSeconds"));
    if (deadline <= ((spec.minReadySeconds as number | undefined) ?? 0)) {
      causes.push({
        reason: "FieldValueInvalid",
        message: `Invalid value: ${deadline}: must be greater than minReadySeconds`,
        field: "spec.progressDeadlineSeconds",
      });
    }
  }
  return [...causes, ...immutableSelector(o, old)];
}

/** ValidateReplicaSet (+ the immutable selector of apps/v1 updates). */
export function replicaSetCauses(o: KubeObject, old: KubeObject | undefined): StatusCause[] {
  const spec = (o.spec ?? {}) as Obj;
  return [
    ...nonNegative(spec.replicas, "spec.replicas"),
    ...nonNegative(spec.minReadySeconds, "spec.minReadySeconds"),
    ...podSetCauses(spec).filter((c) => c.field !== "spec.replicas"),
    ...immutableSelector(o, old),
  ];
}

/** A new Deployment's status is empty; a new ReplicaSet's reports 0 replicas (not omitempty). */
export function emptyDeploymentStatus(o: KubeObject): void {
  o.status = {};
}

export function emptyReplicaSetStatus(o: KubeObject): void {
  o.status = { replicas: 0 };
}
