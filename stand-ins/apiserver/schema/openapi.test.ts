import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { parse } from "yaml";
import {
  type CustomResourceDefinitionLike,
  definitionName,
  openAPIV2,
  openAPIV3ForGroupVersion,
  openAPIV3Index,
} from "./index.ts";

const root = new URL("../../../", import.meta.url);
const crds: CustomResourceDefinitionLike[] = ["builds.kiln.dev.yaml", "repositories.kiln.dev.yaml"].map((f) =>
  parse(readFileSync(new URL(`manifests/crds/${f}`, root), "utf8")),
);

type Json = Record<string, unknown>;

// Every "$ref" in the document points at a definition the document has.
function danglingRefs(doc: Json, prefix: string, table: Json): string[] {
  const missing: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === "object") {
      for (const [k, v] of Object.entries(node)) {
        if (k === "$ref") {
          const ref = String(v);
          if (!ref.startsWith(prefix) || !(ref.slice(prefix.length) in table)) missing.push(ref);
        } else walk(v);
      }
    }
  };
  walk(doc);
  return missing;
}

describe("openAPIV3ForGroupVersion", () => {
  const doc = JSON.parse(JSON.stringify(openAPIV3ForGroupVersion(crds, "kiln.dev", "v1alpha1"))) as Json;
  const schemas = (doc.components as { schemas: Record<string, Json> }).schemas;
  const paths = doc.paths as Record<string, Record<string, Json>>;

  test("is an OpenAPI 3.0 document whose references all resolve", () => {
    assert.equal(doc.openapi, "3.0.0");
    assert.deepEqual(danglingRefs(doc, "#/components/schemas/", schemas), []);
  });

  test("names the kinds and lists like kube does, with their group-version-kind", () => {
    for (const kind of ["Build", "BuildList", "Repository", "RepositoryList"]) {
      const schema = schemas[`dev.kiln.v1alpha1.${kind}`];
      assert.ok(schema, kind);
      assert.deepEqual(schema["x-kubernetes-group-version-kind"], [
        { group: "kiln.dev", kind, version: "v1alpha1" },
      ]);
    }
    assert.equal(definitionName("kiln.dev", "v1alpha1", "Build"), "dev.kiln.v1alpha1.Build");
  });

  test("metadata refers to ObjectMeta; the CRD's own schema is kept", () => {
    const build = schemas["dev.kiln.v1alpha1.Build"] as { properties: Record<string, Json> };
    assert.deepEqual(build.properties.metadata?.allOf, [
      { $ref: "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" },
    ]);
    assert.equal(
      (build.properties.spec as { properties: Record<string, Json> }).properties.timeout?.default,
      "1h",
    );
    assert.ok(schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]);
  });

  test("has the namespaced, item, status and all-namespaces paths", () => {
    assert.deepEqual(
      Object.keys(paths).filter((p) => p.includes("builds")),
      [
        "/apis/kiln.dev/v1alpha1/namespaces/{namespace}/builds",
        "/apis/kiln.dev/v1alpha1/namespaces/{namespace}/builds/{name}",
        "/apis/kiln.dev/v1alpha1/namespaces/{namespace}/builds/{name}/status",
        "/apis/kiln.dev/v1alpha1/builds",
      ],
    );
  });

  test("PATCH names its kind and offers fieldValidation (kubectl's server-side validation probe) but no strategic merge", () => {
    const patch = paths["/apis/kiln.dev/v1alpha1/namespaces/{namespace}/builds/{name}"]?.patch as Json;
    assert.deepEqual(patch["x-kubernetes-group-version-kind"], {
      group: "kiln.dev",
      version: "v1alpha1",
      kind: "Build",
    });
    const params = patch.parameters as { name: string; in: string }[];
    assert.ok(params.some((p) => p.name === "fieldValidation" && p.in === "query"));
    const content = Object.keys((patch.requestBody as { content: Json }).content);
    assert.ok(content.includes("application/merge-patch+json"));
    assert.ok(!content.includes("application/strategic-merge-patch+json"));
  });

  test("only the asked group and version are in it", () => {
    const other = openAPIV3ForGroupVersion(crds, "kiln.dev", "v9") as {
      paths: Json;
      components: { schemas: Json };
    };
    assert.deepEqual(other.paths, {});
    assert.ok(!("dev.kiln.v1alpha1.Build" in other.components.schemas));
  });

  test("the index hashes each document", () => {
    const index = openAPIV3Index({ "apis/kiln.dev/v1alpha1": doc });
    const url = index.paths["apis/kiln.dev/v1alpha1"]?.serverRelativeURL ?? "";
    assert.match(url, /^\/openapi\/v3\/apis\/kiln\.dev\/v1alpha1\?hash=[0-9A-F]{128}$/);
  });
});

describe("openAPIV2", () => {
  const doc = JSON.parse(JSON.stringify(openAPIV2(crds))) as Json;
  const definitions = doc.definitions as Record<string, Json>;

  test("is a swagger 2.0 document whose references all resolve", () => {
    assert.equal(doc.swagger, "2.0");
    assert.deepEqual(danglingRefs(doc, "#/definitions/", definitions), []);
    for (const kind of ["Build", "BuildList", "Repository", "RepositoryList"])
      assert.ok(definitions[`dev.kiln.v1alpha1.${kind}`]);
  });

  test("body parameters carry the schema; PATCH takes a Patch", () => {
    const patch = (doc.paths as Record<string, Record<string, Json>>)[
      "/apis/kiln.dev/v1alpha1/namespaces/{namespace}/repositories/{name}"
    ]?.patch as { parameters: Json[]; consumes: string[] };
    assert.deepEqual(patch.parameters[0], {
      name: "body",
      in: "body",
      required: true,
      schema: { $ref: "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch" },
    });
    assert.ok(!patch.consumes.includes("application/strategic-merge-patch+json"));
  });
});

// Real kubectl reads these documents: a tiny HTTP server with discovery and OpenAPI v3 is enough for explain.
const kubectl = new URL(".tools/bin/kubectl", root).pathname;
describe("kubectl explain against the documents", {
  skip: !existsSync(kubectl) && "kubectl is not installed",
}, () => {
  let server: Server;
  let dir: string;
  let kubeconfig: string;
  const v3 = openAPIV3ForGroupVersion(crds, "kiln.dev", "v1alpha1");
  const index = openAPIV3Index({ "apis/kiln.dev/v1alpha1": v3 });
  const resources = crds.map((c) => ({
    name: c.spec.names.plural,
    singularName: c.spec.names.singular,
    namespaced: true,
    kind: c.spec.names.kind,
    verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
    categories: ["kiln"],
  }));
  const routes: Record<string, unknown> = {
    "/version": { major: "1", minor: "34", gitVersion: "v1.34.0" },
    "/api": { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [] },
    "/api/v1": { kind: "APIResourceList", groupVersion: "v1", resources: [] },
    "/apis": {
      kind: "APIGroupList",
      apiVersion: "v1",
      groups: [
        {
          name: "kiln.dev",
          versions: [{ groupVersion: "kiln.dev/v1alpha1", version: "v1alpha1" }],
          preferredVersion: { groupVersion: "kiln.dev/v1alpha1", version: "v1alpha1" },
        },
      ],
    },
    "/apis/kiln.dev/v1alpha1": {
      kind: "APIResourceList",
      apiVersion: "v1",
      groupVersion: "kiln.dev/v1alpha1",
      resources,
    },
    "/openapi/v3": index,
    "/openapi/v3/apis/kiln.dev/v1alpha1": v3,
  };

  before(async () => {
    server = createServer((req, res) => {
      const body = routes[new URL(req.url ?? "/", "http://x").pathname];
      res.writeHead(body ? 200 : 404, { "content-type": "application/json" });
      res.end(
        JSON.stringify(
          body ?? { kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404 },
        ),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    dir = mkdtempSync(join(tmpdir(), "kiln-explain-"));
    kubeconfig = join(dir, "kubeconfig");
    const { port } = server.address() as AddressInfo;
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters: [{name: t, cluster: {server: "http://127.0.0.1:${port}"}}]\nusers: [{name: t, user: {token: x}}]\ncontexts: [{name: t, context: {cluster: t, user: t}}]\ncurrent-context: t\n`,
    );
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const explain = async (...args: string[]) => {
    const { stdout } = await promisify(execFile)(
      kubectl,
      ["--kubeconfig", kubeconfig, "--cache-dir", join(dir, "cache"), "explain", ...args],
      {
        timeout: 20_000,
      },
    );
    return stdout;
  };

  test("kubectl explain builds.spec", async () => {
    const out = await explain("builds.spec");
    assert.match(out, /GROUP:\s+kiln\.dev/);
    assert.match(out, /KIND:\s+Build/);
    assert.match(out, /One run of one commit\./);
    assert.match(out, /revision\s+<Object> -required-/);
    assert.match(out, /timeout\s+<string>/);
  });

  test("kubectl explain repositories --recursive", async () => {
    const out = await explain("repositories", "--recursive");
    assert.match(out, /metadata\s+<ObjectMeta>/);
    assert.match(out, /webhook\s+<Object>/);
    assert.match(out, /secretRef\s+<Object> -required-/);
    assert.match(out, /chats\s+<\[\]string> -required-/);
  });

  test("kubectl explain reaches ObjectMeta through the reference", async () => {
    const out = await explain("builds.metadata.labels");
    assert.match(out, /labels\s+<map\[string\]string>/);
  });
});

describe("built-in kinds described like CRDs", () => {
  const open = { type: "object", "x-kubernetes-preserve-unknown-fields": true } as const;
  const builtin = (group: string, kind: string, plural: string): CustomResourceDefinitionLike => ({
    spec: {
      group,
      scope: "Namespaced",
      names: { kind, plural },
      versions: [{ name: "v1", served: true, schema: { openAPIV3Schema: open } }],
    },
  });

  test("the core group lives under /api/v1 and is named io.k8s.api.core", () => {
    const doc = openAPIV3ForGroupVersion([builtin("", "Pod", "pods")], "", "v1") as {
      paths: Record<string, Record<string, Json>>;
      components: { schemas: Json };
    };
    assert.ok("/api/v1/namespaces/{namespace}/pods/{name}" in doc.paths);
    assert.equal(
      doc.paths["/api/v1/namespaces/{namespace}/pods/{name}"]?.patch?.operationId,
      "patchCoreV1NamespacedPod",
    );
    assert.ok("io.k8s.api.core.v1.Pod" in doc.components.schemas);
  });

  test("k8s.io groups drop the suffix", () => {
    assert.equal(definitionName("coordination.k8s.io", "v1", "Lease"), "io.k8s.api.coordination.v1.Lease");
    const doc = openAPIV3ForGroupVersion(
      [builtin("coordination.k8s.io", "Lease", "leases")],
      "coordination.k8s.io",
      "v1",
    ) as {
      paths: Record<string, Record<string, Json>>;
    };
    assert.equal(
      doc.paths["/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"]?.get?.operationId,
      "listCoordinationV1NamespacedLease",
    );
  });
});
