// networking.k8s.io/v1 Ingresses, IngressClasses and NetworkPolicies as kube-apiserver defaults and
// validates them (pkg/apis/networking/validation) — the rules an install manifest can trip on: path
// types and paths, hosts (DNS names, wildcards, not IPs), TLS hosts and secret names, backends (a
// service with a port name or number, or a resource), controller names, policy ports and peers.
import { isIP } from "node:net";
import { dns1123SubdomainErrors } from "./builtin-validation.ts";
import { type LabelSelector, labelSelectorCauses } from "./controllers/label-selector.ts";
import type { StatusCause } from "./errors.ts";
import { goQuote } from "./schema/go-format.ts";
import type { KubeObject } from "./storage.ts";

type Obj = Record<string, unknown>;

const invalid = (field: string, value: string, detail: string): StatusCause => ({
  reason: "FieldValueInvalid",
  message: `Invalid value: ${value}: ${detail}`,
  field,
});
const required = (field: string, detail = ""): StatusCause => ({
  reason: "FieldValueRequired",
  message: detail ? `Required value: ${detail}` : "Required value",
  field,
});
const notSupported = (field: string, value: string, allowed: string[]): StatusCause => ({
  reason: "FieldValueNotSupported",
  message: `Unsupported value: ${goQuote(value)}: supported values: ${allowed.map((a) => goQuote(a)).join(", ")}`,
  field,
});

const WILDCARD = /^\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function wildcardErrors(host: string): string[] {
  const errs: string[] = [];
  if (host.length > 253) errs.push("must be no more than 253 characters");
  if (!WILDCARD.test(host))
    errs.push(
      "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
  return errs;
}

function hostErrors(host: string): string[] {
  return host.includes("*") ? wildcardErrors(host) : dns1123SubdomainErrors(host);
}

/** validation.IsValidPortName. */
export function portNameErrors(name: string): string[] {
  const errs: string[] = [];
  if (name.length > 15) errs.push("must be no more than 15 characters");
  if (!/^[-a-z0-9]+$/.test(name))
    errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (!/[a-z]/.test(name)) errs.push("must contain at least one letter (a-z)");
  if (name.includes("--")) errs.push("must not contain consecutive hyphens");
  if (name.startsWith("-") || name.endsWith("-")) errs.push("must not begin or end with a hyphen");
  return errs;
}

const portNumberErrors = (n: number): string[] =>
  Number.isInteger(n) && n >= 1 && n <= 65535 ? [] : ["must be between 1 and 65535, inclusive"];

function backendCauses(backend: Obj | undefined, at: string): StatusCause[] {
  const service = backend?.service as
    | { name?: string; port?: { name?: string; number?: number } }
    | undefined;
  const resource = backend?.resource as { kind?: string; name?: string; apiGroup?: string } | undefined;
  if (resource && service) return [invalid(at, '""', "cannot set both resource and service backends")];
  if (resource) {
    const causes: StatusCause[] = [];
    if (!resource.kind) causes.push(required(`${at}.resource.kind`));
    if (!resource.name) causes.push(required(`${at}.resource.name`));
    return causes;
  }
  if (!service) return [invalid(at, '""', "resource or service backend is required")];
  const causes: StatusCause[] = [];
  if (!service.name) causes.push(required(`${at}.service.name`));
  else
    for (const e of dns1123LabelServiceErrors(service.name))
      causes.push(invalid(`${at}.service.name`, goQuote(service.name), e));
  const name = service.port?.name ?? "";
  const number = service.port?.number ?? 0;
  if (name && number) causes.push(invalid(at, '""', "cannot set both port name & port number"));
  else if (name)
    for (const e of portNameErrors(name)) causes.push(invalid(`${at}.service.port.name`, goQuote(name), e));
  else if (number)
    for (const e of portNumberErrors(number))
      causes.push(invalid(`${at}.service.port.number`, String(number), e));
  else causes.push(required(at, "port name or number is required"));
  return causes;
}

/** ValidateServiceName: a DNS-1035 label. */
function dns1123LabelServiceErrors(name: string): string[] {
  const errs: string[] = [];
  if (name.length > 63) errs.push("must be no more than 63 characters");
  if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(name))
    errs.push(
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    );
  return errs;
}

const PATH_TYPES = ["Exact", "ImplementationSpecific", "Prefix"];
const BAD_SEQUENCES = ["//", "/./", "/../", "%2f", "%2F"];
const BAD_SUFFIXES = ["/..", "/."];

function pathCauses(path: Obj, at: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const type = path.pathType as string | undefined;
  const p = (path.path as string | undefined) ?? "";
  if (type === undefined) return [required(`${at}.pathType`, "pathType must be specified")];
  if (type === "Exact" || type === "Prefix") {
    if (!p.startsWith("/")) causes.push(invalid(`${at}.path`, goQuote(p), "must be an absolute path"));
    if (p.length > 0) {
      for (const s of BAD_SEQUENCES)
        if (p.includes(s)) causes.push(invalid(`${at}.path`, goQuote(p), `must not contain '${s}'`));
      for (const s of BAD_SUFFIXES)
        if (p.endsWith(s)) causes.push(invalid(`${at}.path`, goQuote(p), `cannot end with '${s}'`));
    }
  } else if (type === "ImplementationSpecific") {
    if (p.length > 0 && !p.startsWith("/"))
      causes.push(invalid(`${at}.path`, goQuote(p), "must be an absolute path"));
  } else {
    causes.push(notSupported(`${at}.pathType`, type, PATH_TYPES));
  }
  causes.push(...backendCauses(path.backend as Obj | undefined, `${at}.backend`));
  return causes;
}

/** ValidateIngressCreate/Update's spec rules. */
export function ingressCauses(o: KubeObject, old: KubeObject | undefined): StatusCause[] {
  const spec = (o.spec ?? {}) as Obj;
  const causes: StatusCause[] = [];
  const rules = (spec.rules as Obj[] | undefined) ?? [];
  if (rules.length === 0 && !spec.defaultBackend) {
    causes.push(
      invalid(
        "spec",
        "[]networking.IngressRule(nil)",
        "either `defaultBackend` or `rules` must be specified",
      ),
    );
  }
  if (spec.defaultBackend) causes.push(...backendCauses(spec.defaultBackend as Obj, "spec.defaultBackend"));
  rules.forEach((rule, i) => {
    const host = (rule.host as string | undefined) ?? "";
    if (host) {
      if (isIP(host))
        causes.push(invalid(`spec.rules[${i}].host`, goQuote(host), "must be a DNS name, not an IP address"));
      for (const e of hostErrors(host)) causes.push(invalid(`spec.rules[${i}].host`, goQuote(host), e));
    }
    const http = rule.http as { paths?: Obj[] } | undefined;
    if (!http) return;
    const at = `spec.rules[${i}].http.paths`;
    if ((http.paths ?? []).length === 0) causes.push(required(at));
    (http.paths ?? []).forEach((p, j) => {
      causes.push(...pathCauses(p, `${at}[${j}]`));
    });
  });
  ((spec.tls as Obj[] | undefined) ?? []).forEach((tls, i) => {
    ((tls.hosts as string[] | undefined) ?? []).forEach((host, j) => {
      for (const e of hostErrors(host)) causes.push(invalid(`spec.tls[${i}].hosts[${j}]`, goQuote(host), e));
    });
    const secret = tls.secretName as string | undefined;
    if (secret)
      for (const e of dns1123SubdomainErrors(secret))
        causes.push(invalid(`spec.tls[${i}].secretName`, goQuote(secret), e));
  });
  const className = spec.ingressClassName as string | undefined;
  if (className !== undefined)
    for (const e of dns1123SubdomainErrors(className))
      causes.push(invalid("spec.ingressClassName", goQuote(className), e));
  const annotated = o.metadata.annotations?.["kubernetes.io/ingress.class"];
  if (!old && className !== undefined && annotated) {
    causes.push(
      invalid(
        "annotations.kubernetes.io/ingress.class",
        goQuote(annotated),
        "can not be set when the class field is also set",
      ),
    );
  }
  return causes;
}

const HTTP_PATH = /^[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/;

/** validateIngressClassSpec (+ the immutable controller). */
export function ingressClassCauses(o: KubeObject, old: KubeObject | undefined): StatusCause[] {
  const spec = (o.spec ?? {}) as { controller?: string; parameters?: Obj };
  const controller = spec.controller ?? "";
  const at = "spec.controller";
  const causes: StatusCause[] = [];
  if (controller.length > 250)
    causes.push({
      reason: "FieldValueTooLong",
      message: "Too long: may not be more than 250 bytes",
      field: at,
    });
  if (controller.length === 0) causes.push(required(at));
  else {
    const slash = controller.indexOf("/");
    const host = controller.slice(0, slash);
    const path = controller.slice(slash + 1);
    if (slash <= 0 || path.length === 0)
      causes.push(invalid(at, goQuote(controller), 'must be a domain-prefixed path (such as "acme.io/foo")'));
    else {
      for (const e of dns1123SubdomainErrors(host)) causes.push(invalid(at, goQuote(host), e));
      if (!HTTP_PATH.test(path))
        causes.push(
          invalid(
            at,
            goQuote(path),
            "Invalid path (regex used for validation is '[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+')",
          ),
        );
    }
  }
  const params = spec.parameters;
  if (params) {
    if (!params.kind) causes.push(required("spec.parameters.kind"));
    if (!params.name) causes.push(required("spec.parameters.name"));
    const scope = params.scope as string | undefined;
    if (scope !== undefined && scope !== "Cluster" && scope !== "Namespace")
      causes.push(notSupported("spec.parameters.scope", scope, ["Cluster", "Namespace"]));
    if (scope === "Namespace" && !params.namespace)
      causes.push(required("spec.parameters.namespace", "`parameters.scope` is set to 'Namespace'"));
    if (scope === "Cluster" && params.namespace)
      causes.push({
        reason: "FieldValueForbidden",
        message: "Forbidden: `parameters.scope` is set to 'Cluster'",
        field: "spec.parameters.namespace",
      });
  }
  const before = (old?.spec as { controller?: string } | undefined)?.controller;
  if (old && before !== controller) causes.push(invalid(at, goQuote(controller), "field is immutable"));
  return causes;
}

export function networkPolicyDefaults(o: KubeObject): void {
  const spec = (o.spec ?? {}) as Obj;
  for (const dir of ["ingress", "egress"]) {
    for (const rule of (spec[dir] as Obj[] | undefined) ?? []) {
      for (const port of (rule.ports as Obj[] | undefined) ?? []) port.protocol ??= "TCP";
    }
  }
  if (((spec.policyTypes as string[] | undefined) ?? []).length === 0) {
    spec.policyTypes = [
      "Ingress",
      ...(((spec.egress as unknown[] | undefined) ?? []).length > 0 ? ["Egress"] : []),
    ];
  }
}

function peerCauses(peer: Obj, at: string): StatusCause[] {
  const causes: StatusCause[] = [];
  let n = 0;
  if (peer.podSelector) {
    n++;
    causes.push(...labelSelectorCauses(peer.podSelector as LabelSelector, `${at}.podSelector`));
  }
  if (peer.namespaceSelector) {
    n++;
    causes.push(...labelSelectorCauses(peer.namespaceSelector as LabelSelector, `${at}.namespaceSelector`));
  }
  const block = peer.ipBlock as { cidr?: string; except?: string[] } | undefined;
  if (block) {
    n++;
    if (!block.cidr) causes.push(required(`${at}.ipBlock.cidr`));
    else if (!validCIDR(block.cidr))
      causes.push(
        invalid(
          `${at}.ipBlock.cidr`,
          goQuote(block.cidr),
          "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
        ),
      );
    (block.except ?? []).forEach((e, i) => {
      if (!validCIDR(e))
        causes.push(
          invalid(
            `${at}.ipBlock.except[${i}]`,
            goQuote(e),
            "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
          ),
        );
    });
  }
  if (n === 0) causes.push(required(at, "must specify a peer"));
  else if (block && n > 1)
    causes.push({
      reason: "FieldValueForbidden",
      message: "Forbidden: may not specify both ipBlock and another peer",
      field: at,
    });
  return causes;
}

function validCIDR(text: string): boolean {
  const [ip, bits, ...rest] = text.split("/");
  if (rest.length > 0 || ip === undefined || bits === undefined || !/^\d+$/.test(bits)) return false;
  const family = isIP(ip);
  return family !== 0 && Number(bits) <= (family === 4 ? 32 : 128);
}

function policyPortCauses(port: Obj, at: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const protocol = port.protocol as string | undefined;
  if (protocol !== undefined && !["TCP", "UDP", "SCTP"].includes(protocol))
    causes.push(notSupported(`${at}.protocol`, protocol, ["SCTP", "TCP", "UDP"]));
  const p = port.port as number | string | undefined;
  const end = port.endPort as number | undefined;
  if (typeof p === "number") {
    for (const e of portNumberErrors(p)) causes.push(invalid(`${at}.port`, String(p), e));
    if (end !== undefined) {
      if (end < p)
        causes.push(invalid(`${at}.endPort`, String(end), "must be greater than or equal to `port`"));
      for (const e of portNumberErrors(end)) causes.push(invalid(`${at}.endPort`, String(end), e));
    }
  } else if (typeof p === "string") {
    for (const e of portNameErrors(p)) causes.push(invalid(`${at}.port`, goQuote(p), e));
    if (end !== undefined)
      causes.push(invalid(`${at}.endPort`, String(end), "may not be specified when `port` is non-numeric"));
  } else if (end !== undefined) {
    causes.push(invalid(`${at}.endPort`, String(end), "may not be specified when `port` is not specified"));
  }
  return causes;
}

/** ValidateNetworkPolicySpec. */
export function networkPolicyCauses(o: KubeObject): StatusCause[] {
  const spec = (o.spec ?? {}) as Obj;
  const causes = labelSelectorCauses(spec.podSelector as LabelSelector | undefined, "spec.podSelector");
  for (const [dir, peers] of [
    ["ingress", "from"],
    ["egress", "to"],
  ] as const) {
    ((spec[dir] as Obj[] | undefined) ?? []).forEach((rule, i) => {
      ((rule.ports as Obj[] | undefined) ?? []).forEach((port, j) => {
        causes.push(...policyPortCauses(port, `spec.${dir}[${i}].ports[${j}]`));
      });
      ((rule[peers] as Obj[] | undefined) ?? []).forEach((peer, j) => {
        causes.push(...peerCauses(peer, `spec.${dir}[${i}].${peers}[${j}]`));
      });
    });
  }
  const types = (spec.policyTypes as string[] | undefined) ?? [];
  types.forEach((t, i) => {
    if (t !== "Ingress" && t !== "Egress")
      causes.push(notSupported(`spec.policyTypes[${i}]`, t, ["Egress", "Ingress"]));
  });
  if (types.length > 2)
    causes.push(
      invalid(
        "spec.policyTypes",
        `&[]networking.PolicyType{${types.map((t) => goQuote(t)).join(", ")}}`,
        "may not specify more than two policyTypes",
      ),
    );
  return causes;
}

/** A new Ingress's status carries an empty loadBalancer (IngressStatus is not omitempty). */
export function emptyIngressStatus(o: KubeObject): void {
  o.status = { loadBalancer: {} };
}
