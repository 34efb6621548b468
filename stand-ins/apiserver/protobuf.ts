// Decoding of the Kubernetes protobuf encoding ("k8s\0" + runtime.Unknown) for the built-in kinds that
// kubectl's typed clients send that way (`kubectl create namespace|secret|configmap|serviceaccount|token|
// role|rolebinding|clusterrole|clusterrolebinding`, `kubectl auth can-i [--list]|whoami`).
// Field numbers are those of k8s.io/api's generated.proto (v0.34); the result is the object's JSON form,
// as Go's JSON encoding would write the decoded object: empty strings, a zero int and an unset time
// (omitempty) are left out, as a decode by kube-apiserver then sees them.

import type { FieldType, MessageSchema } from "./protobuf-types.ts";
import { STRICT_MESSAGES, WORKLOAD_SCHEMAS } from "./protobuf-workloads.ts";
import { AUTHORIZATION_SCHEMAS, RBAC_SCHEMAS } from "./rbac/protobuf-schemas.ts";

const SCHEMAS: Record<string, MessageSchema> = {
  Unknown: {
    1: { name: "typeMeta", type: { message: "TypeMeta" } },
    2: { name: "raw", type: "bytes" },
    3: { name: "contentEncoding", type: "string" },
    4: { name: "contentType", type: "string" },
  },
  TypeMeta: { 1: { name: "apiVersion", type: "string" }, 2: { name: "kind", type: "string" } },
  Time: { 1: { name: "seconds", type: "int" }, 2: { name: "nanos", type: "int" } },
  ObjectMeta: {
    1: { name: "name", type: "string" },
    2: { name: "generateName", type: "string" },
    3: { name: "namespace", type: "string" },
    5: { name: "uid", type: "string" },
    6: { name: "resourceVersion", type: "string" },
    7: { name: "generation", type: "int" },
    8: { name: "creationTimestamp", type: { message: "Time" } },
    9: { name: "deletionTimestamp", type: { message: "Time" } },
    10: { name: "deletionGracePeriodSeconds", type: "int" },
    11: { name: "labels", type: { map: "string" } },
    12: { name: "annotations", type: { map: "string" } },
    13: { name: "ownerReferences", type: { message: "OwnerReference" }, repeated: true },
    14: { name: "finalizers", type: "string", repeated: true },
  },
  OwnerReference: {
    1: { name: "kind", type: "string" },
    3: { name: "name", type: "string" },
    4: { name: "uid", type: "string" },
    5: { name: "apiVersion", type: "string" },
    6: { name: "controller", type: "bool" },
    7: { name: "blockOwnerDeletion", type: "bool" },
  },
  ObjectReference: {
    1: { name: "kind", type: "string" },
    2: { name: "namespace", type: "string" },
    3: { name: "name", type: "string" },
    4: { name: "uid", type: "string" },
    5: { name: "apiVersion", type: "string" },
    6: { name: "resourceVersion", type: "string" },
    7: { name: "fieldPath", type: "string" },
  },
  LocalObjectReference: { 1: { name: "name", type: "string" } },
  Namespace: {
    1: { name: "metadata", type: { message: "ObjectMeta" } },
    2: { name: "spec", type: { message: "NamespaceSpec" } },
  },
  NamespaceSpec: { 1: { name: "finalizers", type: "string", repeated: true } },
  Secret: {
    1: { name: "metadata", type: { message: "ObjectMeta" } },
    2: { name: "data", type: { map: "bytes" } },
    3: { name: "type", type: "string" },
    4: { name: "stringData", type: { map: "string" } },
    5: { name: "immutable", type: "bool" },
  },
  ConfigMap: {
    1: { name: "metadata", type: { message: "ObjectMeta" } },
    2: { name: "data", type: { map: "string" } },
    3: { name: "binaryData", type: { map: "bytes" } },
    4: { name: "immutable", type: "bool" },
  },
  ServiceAccount: {
    1: { name: "metadata", type: { message: "ObjectMeta" } },
    2: { name: "secrets", type: { message: "ObjectReference" }, repeated: true },
    3: { name: "imagePullSecrets", type: { message: "LocalObjectReference" }, repeated: true },
    4: { name: "automountServiceAccountToken", type: "bool" },
  },
  TokenRequest: {
    1: { name: "metadata", type: { message: "ObjectMeta" } },
    2: { name: "spec", type: { message: "TokenRequestSpec" } },
  },
  TokenRequestSpec: {
    1: { name: "audiences", type: "string", repeated: true },
    3: { name: "boundObjectRef", type: { message: "BoundObjectReference" } },
    4: { name: "expirationSeconds", type: "int" },
  },
  SelfSubjectAccessReview: {
    1: { name: "metadata", type: { message: "ObjectMeta" } },
    2: { name: "spec", type: { message: "SelfSubjectAccessReviewSpec" } },
  },
  SelfSubjectAccessReviewSpec: {
    1: { name: "resourceAttributes", type: { message: "ResourceAttributes" } },
    2: { name: "nonResourceAttributes", type: { message: "NonResourceAttributes" } },
  },
  ResourceAttributes: {
    1: { name: "namespace", type: "string" },
    2: { name: "verb", type: "string" },
    3: { name: "group", type: "string" },
    4: { name: "version", type: "string" },
    5: { name: "resource", type: "string" },
    6: { name: "subresource", type: "string" },
    7: { name: "name", type: "string" },
  },
  NonResourceAttributes: { 1: { name: "path", type: "string" }, 2: { name: "verb", type: "string" } },
  SelfSubjectReview: { 1: { name: "metadata", type: { message: "ObjectMeta" } } },
  TokenReview: {
    1: { name: "metadata", type: { message: "ObjectMeta" } },
    2: { name: "spec", type: { message: "TokenReviewSpec" } },
  },
  TokenReviewSpec: {
    1: { name: "token", type: "string" },
    2: { name: "audiences", type: "string", repeated: true },
  },
  ...RBAC_SCHEMAS,
  ...AUTHORIZATION_SCHEMAS,
  ...WORKLOAD_SCHEMAS,
  BoundObjectReference: {
    1: { name: "kind", type: "string" },
    2: { name: "apiVersion", type: "string" },
    3: { name: "name", type: "string" },
    4: { name: "uid", type: "string" },
  },
};

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

class Reader {
  private pos = 0;
  private readonly buf: Buffer;

  constructor(buf: Buffer) {
    this.buf = buf;
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error("truncated varint");
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new Error("varint too long");
    }
  }

  bytes(): Buffer {
    const length = Number(this.varint());
    if (this.pos + length > this.buf.length) throw new Error("truncated field");
    const out = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  /** Skips a field; whether it held anything but its type's zero value. */
  skip(wire: number): boolean {
    if (wire === 0) return this.varint() !== 0n;
    if (wire === 2) return this.bytes().length > 0;
    if (wire === 1) this.pos += 8;
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
    return true;
  }
}

/** An empty Time message is Go's zero time, which JSON writes as null: left out like the other empties. */
function timeToJSON(t: { seconds?: number }): string | undefined {
  if (t.seconds === undefined) return undefined;
  return `${new Date(t.seconds * 1000).toISOString().slice(0, 19)}Z`;
}

const isIntOrString = (t: FieldType) =>
  typeof t === "object" && "message" in t && t.message === "IntOrString";

function decodeMessage(buf: Buffer, schemaName: string): Record<string, unknown> {
  const schema = SCHEMAS[schemaName]!;
  const out: Record<string, unknown> = {};
  const r = new Reader(buf);
  while (!r.done) {
    const tag = Number(r.varint());
    const number = tag >>> 3;
    const wire = tag & 7;
    const field = schema[number];
    if (!field) {
      // Go writes every plain field, set or not: an unknown one holding a value would be lost here.
      if (r.skip(wire) && STRICT_MESSAGES.has(schemaName))
        throw new Error(`field ${number} of ${schemaName} is not decoded by this server; send JSON`);
      continue;
    }
    let value: unknown;
    const type = field.type;
    if (type === "int") value = Number(BigInt.asIntN(64, r.varint()));
    else if (type === "bool") value = r.varint() !== 0n;
    else if (type === "flag") value = r.varint() !== 0n || undefined;
    else if (type === "string") value = r.bytes().toString("utf8");
    else if (type === "bytes") value = r.bytes();
    else if ("map" in type) {
      const entry = new Reader(r.bytes());
      let key = "";
      let v: string | string[] = type.map === "strings" ? [] : "";
      while (!entry.done) {
        const t = Number(entry.varint());
        const raw = entry.bytes();
        if (t >>> 3 === 1) key = raw.toString("utf8");
        else if (type.map === "strings") v = (decodeMessage(raw, "ExtraValue").items as string[]) ?? [];
        else if (type.map === "quantity") v = String(decodeMessage(raw, "Quantity").string ?? "0");
        else v = type.map === "bytes" ? raw.toString("base64") : raw.toString("utf8");
      }
      out[field.name] ??= {};
      (out[field.name] as Record<string, string | string[]>)[key] = v;
      continue;
    } else {
      const inner = decodeMessage(r.bytes(), type.message);
      if (type.message === "Time") value = timeToJSON(inner as { seconds?: number });
      else if (type.message === "IntOrString")
        // intstr: type 1 is a string; an int of 0 is written as nothing, so it comes back as 0.
        value = inner.type === 1 ? String(inner.strVal ?? "") : Number(inner.intVal ?? 0);
      else value = inner;
    }
    if (field.repeated) {
      out[field.name] ??= [];
      (out[field.name] as unknown[]).push(value);
    } else if (value !== undefined && ((value !== "" && value !== 0) || isIntOrString(type)))
      out[field.name] = value;
  }
  return out;
}

export function isKubernetesProtobuf(contentType: string): boolean {
  return contentType.split(";")[0]!.trim().toLowerCase() === "application/vnd.kubernetes.protobuf";
}

/** The JSON form of a protobuf-encoded object, or an Error naming what is not understood. */
export function decodeKubernetesProtobuf(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC))
    throw new Error("missing the k8s protobuf prefix");
  const unknown = decodeMessage(body.subarray(4), "Unknown") as {
    typeMeta?: { apiVersion?: string; kind?: string };
    raw?: Buffer;
  };
  const kind = unknown.typeMeta?.kind ?? "";
  const apiVersion = unknown.typeMeta?.apiVersion ?? "";
  if (!SCHEMAS[kind] || kind === "Unknown" || kind === "TypeMeta") {
    throw new Error(`protobuf bodies of kind ${JSON.stringify(kind)} are not supported; send JSON`);
  }
  return { apiVersion, kind, ...decodeMessage(unknown.raw ?? Buffer.alloc(0), kind) };
}
