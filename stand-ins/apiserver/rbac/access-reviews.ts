// The authorization.k8s.io/v1 reviews, answered by the same authorizer that guards requests
// (pkg/registry/authorization/*): SubjectAccessReview (any user, from its spec),
// LocalSubjectAccessReview (namespaced), SelfSubjectAccessReview and SelfSubjectRulesReview
// (the requesting user) — with kube's validation and its reason texts.
import { badRequest, invalid, type StatusCause } from "../errors.ts";
import type { ReviewContext, ReviewKind } from "../review-kind.ts";
import { type Attributes, nonResourceAttributes, resourceAttributes } from "./attributes.ts";
import type { Authorizer, RulesInfo } from "./authorizer.ts";
import type { UserInfo } from "./user.ts";

const GROUP = "authorization.k8s.io";

type Body = Record<string, unknown>;

interface ResourceAttributesSpec {
  namespace?: string;
  verb?: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

interface Spec {
  resourceAttributes?: ResourceAttributesSpec | null;
  nonResourceAttributes?: { path?: string; verb?: string } | null;
  user?: string;
  groups?: string[];
  uid?: string;
  extra?: Record<string, string[]>;
  namespace?: string;
}

function specOf(kind: string, body: Body): Spec {
  if (
    body.spec !== undefined &&
    (typeof body.spec !== "object" || body.spec === null || Array.isArray(body.spec))
  )
    throw badRequest(`${kind}: spec must be an object`);
  return (body.spec ?? {}) as Spec;
}

/** Go's %#v of the internal type a field error names (authorization.NonResourceAttributes{…}). */
function goValue(type: string, v: Record<string, unknown> | null | undefined): string {
  if (!v) return "null";
  const fields = Object.entries(v).map(
    ([k, x]) => `${k.charAt(0).toUpperCase()}${k.slice(1)}:${JSON.stringify(x)}`,
  );
  return `authorization.${type}{${fields.join(", ")}}`;
}

function cause(field: string, value: string, detail: string): StatusCause {
  return { reason: "FieldValueInvalid", message: `Invalid value: ${value}: ${detail}`, field };
}

/** ValidateSelfSubjectAccessReviewSpec (and, with `subject`, ValidateSubjectAccessReviewSpec). */
function specCauses(spec: Spec, subject: boolean): StatusCause[] {
  const causes: StatusCause[] = [];
  if (spec.resourceAttributes && spec.nonResourceAttributes)
    causes.push(
      cause(
        "spec.nonResourceAttributes",
        goValue("NonResourceAttributes", spec.nonResourceAttributes),
        "cannot be specified in combination with resourceAttributes",
      ),
    );
  if (!spec.resourceAttributes && !spec.nonResourceAttributes)
    causes.push(
      cause(
        "spec.resourceAttributes",
        goValue("NonResourceAttributes", spec.nonResourceAttributes),
        "exactly one of nonResourceAttributes or resourceAttributes must be specified",
      ),
    );
  if (subject && !spec.user && (spec.groups ?? []).length === 0)
    causes.push(
      cause("spec.user", JSON.stringify(spec.user ?? ""), "at least one of user or group must be specified"),
    );
  return causes;
}

function metadataCauses(body: Body, allowNamespace: boolean): StatusCause[] {
  const m = { ...((body.metadata ?? {}) as Record<string, unknown>) };
  delete m.managedFields;
  if (m.creationTimestamp === null) delete m.creationTimestamp;
  if (allowNamespace) delete m.namespace;
  if (Object.keys(m).length === 0) return [];
  return [
    cause(
      "metadata",
      `v1.ObjectMeta{${Object.entries(m)
        .map(([k, v]) => `${k.charAt(0).toUpperCase()}${k.slice(1)}:${JSON.stringify(v)}`)
        .join(", ")}}`,
      allowNamespace ? "must be empty except for namespace" : "must be empty",
    ),
  ];
}

/** authorizationutil.AuthorizationAttributesFrom. */
function attributesOf(user: UserInfo, spec: Spec): Attributes {
  const r = spec.resourceAttributes;
  if (r)
    return resourceAttributes(user, {
      verb: r.verb ?? "",
      namespace: r.namespace || undefined,
      apiGroup: r.group ?? "",
      apiVersion: r.version ?? "",
      resource: r.resource ?? "",
      subresource: r.subresource || undefined,
      name: r.name || undefined,
    });
  const n = spec.nonResourceAttributes ?? {};
  return nonResourceAttributes(user, n.verb ?? "", n.path ?? "");
}

function subjectOf(spec: Spec): UserInfo {
  return {
    username: spec.user ?? "",
    groups: spec.groups ?? [],
    ...(spec.uid ? { uid: spec.uid } : {}),
    ...(spec.extra ? { extra: spec.extra } : {}),
  };
}

function response(kind: string, body: Body, spec: unknown, status: unknown): Body {
  return {
    kind,
    apiVersion: `${GROUP}/v1`,
    metadata: { ...((body.metadata ?? {}) as Body), creationTimestamp: null },
    spec,
    status,
  };
}

function accessStatus(authorizer: Authorizer, a: Attributes): Body {
  const d = authorizer.authorize(a);
  return { allowed: d.allowed, ...(d.reason ? { reason: d.reason } : {}) };
}

/** SubjectRulesReviewStatus as JSON: empty lists of a rule are left out (omitempty). */
function rulesStatus(info: RulesInfo): Body {
  const drop = (r: object) =>
    Object.fromEntries(Object.entries(r).filter(([k, v]) => k === "verbs" || (v as string[]).length > 0));
  return {
    resourceRules: info.resourceRules.map(drop),
    nonResourceRules: info.nonResourceRules.map(drop),
    incomplete: info.incomplete,
    ...(info.evaluationError ? { evaluationError: info.evaluationError } : {}),
  };
}

export function accessReviewKinds(authorizer: Authorizer): ReviewKind[] {
  const kind = (name: string, namespaced: boolean, answer: (body: Body, ctx: ReviewContext) => Body) => ({
    group: GROUP,
    version: "v1",
    resource: `${name.toLowerCase()}s`,
    kind: name,
    namespaced,
    answer,
  });
  return [
    kind("SelfSubjectAccessReview", false, (body, ctx) => {
      const spec = specOf("SelfSubjectAccessReview", body);
      const causes = [...specCauses(spec, false), ...metadataCauses(body, false)];
      if (causes.length > 0) throw invalid(GROUP, "SelfSubjectAccessReview", "", causes);
      return response(
        "SelfSubjectAccessReview",
        body,
        spec,
        accessStatus(authorizer, attributesOf(ctx.user, spec)),
      );
    }),
    kind("SelfSubjectRulesReview", false, (body, ctx) => {
      const spec = specOf("SelfSubjectRulesReview", body);
      if (!spec.namespace) throw badRequest("no namespace on request");
      return response(
        "SelfSubjectRulesReview",
        body,
        {},
        rulesStatus(authorizer.rulesFor(ctx.user, spec.namespace)),
      );
    }),
    kind("SubjectAccessReview", false, (body) => {
      const spec = specOf("SubjectAccessReview", body);
      const causes = [...specCauses(spec, true), ...metadataCauses(body, false)];
      if (causes.length > 0) throw invalid(GROUP, "SubjectAccessReview", "", causes);
      return response(
        "SubjectAccessReview",
        body,
        spec,
        accessStatus(authorizer, attributesOf(subjectOf(spec), spec)),
      );
    }),
    kind("LocalSubjectAccessReview", true, (body, ctx) => {
      const spec = specOf("LocalSubjectAccessReview", body);
      const metadata = (body.metadata ?? {}) as { namespace?: string };
      if (metadata.namespace && metadata.namespace !== ctx.namespace)
        throw badRequest(
          "the namespace of the provided object does not match the namespace sent on the request",
        );
      const namespace = ctx.namespace ?? "";
      const causes = [...specCauses(spec, true), ...metadataCauses(body, true)];
      if (spec.resourceAttributes && (spec.resourceAttributes.namespace ?? "") !== namespace)
        causes.push(
          cause(
            "spec.resourceAttributes.namespace",
            JSON.stringify(spec.resourceAttributes.namespace ?? ""),
            "must match metadata.namespace",
          ),
        );
      if (spec.nonResourceAttributes)
        causes.push(
          cause(
            "spec.nonResourceAttributes",
            goValue("NonResourceAttributes", spec.nonResourceAttributes),
            "disallowed on this kind of request",
          ),
        );
      if (causes.length > 0) throw invalid(GROUP, "LocalSubjectAccessReview", "", causes);
      const answered = response(
        "LocalSubjectAccessReview",
        body,
        spec,
        accessStatus(authorizer, attributesOf(subjectOf(spec), spec)),
      );
      (answered.metadata as Body).namespace = namespace;
      return answered;
    }),
  ];
}
