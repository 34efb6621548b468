// The zod schemas in api/ and the CRDs generated from them must not drift: the committed manifests are
// what the generator writes, and on every sample zod and the API server's pipeline (prune → default →
// validate, as stand-ins/apiserver/schema does it like kube-apiserver) agree on validity and on the result.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, test } from "node:test";
import fc from "fast-check";
import { parseAllDocuments } from "yaml";
import type { z } from "zod";
import { CRD_DIR, renderedCRDs } from "../scripts/gen-crds.ts";
import { admitCustomResource, formatFieldError } from "../stand-ins/apiserver/schema/index.ts";
import { applyMutation, arbitraryFor, mutationOf, pathsOf } from "../test/fixtures/schema-arbitrary.ts";
import { build } from "./build.ts";
import { kilnCRDs } from "./crds.ts";
import { API_VERSION } from "./group.ts";
import { repository } from "./repository.ts";
import type { JSONSchemaProps } from "./structural-schema.ts";

describe("manifests/crds", () => {
  const rendered = renderedCRDs();

  for (const [path, text] of rendered) {
    test(`${basename(path)} is what the generator writes`, () => {
      const committed = readFileSync(path, "utf8");
      assert.ok(committed === text, `${basename(path)} is stale: run npm run gen:crds`);
    });
  }

  test("holds no CRD the generator does not write", () => {
    const generated = new Set([...rendered.keys()].map((p) => basename(p)));
    const stray = readdirSync(CRD_DIR).filter(
      (f) => f.endsWith(".yaml") && f !== "kustomization.yaml" && !generated.has(f),
    );
    assert.deepEqual(stray, [], "run npm run gen:crds and remove CRDs of kinds that no longer exist");
  });
});

const schemaOf = (kind: string): JSONSchemaProps => {
  const crd = kilnCRDs().find((c) => c.spec.names.kind === kind);
  assert.ok(crd, kind);
  return crd.spec.versions[0]!.schema.openAPIV3Schema as JSONSchemaProps;
};

const kinds = {
  Build: { zod: build, schema: schemaOf("Build") },
  Repository: { zod: repository, schema: schemaOf("Repository") },
} satisfies Record<string, { zod: z.ZodType; schema: JSONSchemaProps }>;
type Kind = keyof typeof kinds;

/** Both verdicts on one input; `agree` also compares zod's output with the object the server would store. */
function compare(kind: Kind, input: unknown) {
  const { zod, schema } = kinds[kind];
  const parsed = zod.safeParse(input);
  const admitted = admitCustomResource(input, schema);
  const serverValid = admitted.errors.length === 0;
  const detail = () =>
    `zod: ${parsed.success ? "valid" : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}\n` +
    `server: ${serverValid ? "valid" : admitted.errors.map(formatFieldError).join("; ")}\ninput: ${JSON.stringify(input)}`;
  return { parsed, admitted, serverValid, detail };
}

function assertAgree(kind: Kind, input: unknown): boolean {
  const { parsed, admitted, serverValid, detail } = compare(kind, input);
  assert.equal(parsed.success, serverValid, `zod and the CRD disagree\n${detail()}`);
  if (parsed.success)
    assert.deepEqual(
      parsed.data,
      admitted.object,
      `zod's output differs from the stored object\n${detail()}`,
    );
  return parsed.success;
}

const meta = { name: "sample", namespace: "kiln", labels: { "kiln.dev/repository": "api" } };
const sha = "4f2c1a9e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a39";
const buildOf = (spec: object, status?: object) => ({
  apiVersion: API_VERSION,
  kind: "Build",
  metadata: meta,
  spec,
  ...(status ? { status } : {}),
});
const minimalBuild = {
  repository: "api",
  revision: { sha, ref: "refs/heads/main" },
  trigger: { event: "push" },
};
const repositoryOf = (spec: object, status?: object) => ({
  apiVersion: API_VERSION,
  kind: "Repository",
  metadata: meta,
  spec,
  ...(status ? { status } : {}),
});
const minimalRepository = { github: { owner: "acme", name: "api" } };

const samples: { name: string; kind: Kind; input: unknown; valid: boolean }[] = [
  { name: "minimal build (relies on defaults)", kind: "Build", input: buildOf(minimalBuild), valid: true },
  {
    name: "build with every field",
    kind: "Build",
    input: buildOf(
      {
        ...minimalBuild,
        revision: {
          ...minimalBuild.revision,
          branch: "main",
          message: "m",
          author: "a",
          compareURL: "https://x",
        },
        trigger: { event: "pull_request", deliveryID: "d1", pullRequest: { number: 7, fork: true } },
        pauseOnFailure: true,
        timeout: "1h30m",
        cancel: false,
      },
      {
        phase: "Running",
        observedGeneration: 1,
        steps: [{ name: "test", phase: "Failed", exitCode: 2 }],
        conditions: [
          {
            type: "Ready",
            status: "False",
            reason: "StepFailed",
            lastTransitionTime: "2026-01-01T00:00:00Z",
          },
        ],
      },
    ),
    valid: true,
  },
  {
    name: "build with unknown fields everywhere (pruned / stripped)",
    kind: "Build",
    input: {
      ...buildOf(
        { ...minimalBuild, priority: 1, revision: { ...minimalBuild.revision, x: 1 } },
        { phase: "Queued", node: "n" },
      ),
      extra: true,
    },
    valid: true,
  },
  {
    name: "build: short sha",
    kind: "Build",
    input: buildOf({ ...minimalBuild, revision: { sha: "abc", ref: "r" } }),
    valid: false,
  },
  {
    name: "build: unknown trigger",
    kind: "Build",
    input: buildOf({ ...minimalBuild, trigger: { event: "tag" } }),
    valid: false,
  },
  {
    name: "build: bad duration",
    kind: "Build",
    input: buildOf({ ...minimalBuild, timeout: "1 hour" }),
    valid: false,
  },
  {
    name: "build: empty repository",
    kind: "Build",
    input: buildOf({ ...minimalBuild, repository: "" }),
    valid: false,
  },
  {
    name: "build: no revision",
    kind: "Build",
    input: buildOf({ repository: "api", trigger: { event: "push" } }),
    valid: false,
  },
  {
    name: "build: pull request number 0",
    kind: "Build",
    input: buildOf({
      ...minimalBuild,
      trigger: { event: "pull_request", pullRequest: { number: 0, fork: false } },
    }),
    valid: false,
  },
  {
    name: "build: fractional pull request number",
    kind: "Build",
    input: buildOf({
      ...minimalBuild,
      trigger: { event: "pull_request", pullRequest: { number: 1.5, fork: false } },
    }),
    valid: false,
  },
  {
    name: "build: boolean as a string",
    kind: "Build",
    input: buildOf({ ...minimalBuild, pauseOnFailure: "yes" }),
    valid: false,
  },
  {
    name: "build: unknown phase",
    kind: "Build",
    input: buildOf(minimalBuild, { phase: "Bogus" }),
    valid: false,
  },
  {
    name: "build: step without a name",
    kind: "Build",
    input: buildOf(minimalBuild, { steps: [{ phase: "Running" }] }),
    valid: false,
  },
  {
    name: "build: no spec",
    kind: "Build",
    input: { apiVersion: API_VERSION, kind: "Build", metadata: meta },
    valid: false,
  },
  {
    name: "minimal repository (relies on defaults)",
    kind: "Repository",
    input: repositoryOf(minimalRepository),
    valid: true,
  },
  {
    name: "repository: webhook without events, history without keep, telegram without on",
    kind: "Repository",
    input: repositoryOf({
      ...minimalRepository,
      webhook: { url: "https://kiln.example.com/hooks/github", secretRef: { name: "s", key: "k" } },
      history: {},
      notify: { telegram: { chats: ["-100"] } },
    }),
    valid: true,
  },
  {
    name: "repository: GitHub Enterprise and a local webhook URL",
    kind: "Repository",
    input: repositoryOf({
      github: { ...minimalRepository.github, apiURL: "https://ghe.example/api/v3" },
      webhook: { url: "http://127.0.0.1:8080/hooks/github", secretRef: { name: "s", key: "k" } },
    }),
    valid: true,
  },
  {
    name: "repository: unknown fields",
    kind: "Repository",
    input: repositoryOf({ ...minimalRepository, colour: "red" }, { hookID: 3, x: 1 }),
    valid: true,
  },
  {
    name: "repository: concurrency 0",
    kind: "Repository",
    input: repositoryOf({ ...minimalRepository, concurrency: 0 }),
    valid: false,
  },
  {
    name: "repository: concurrency 101",
    kind: "Repository",
    input: repositoryOf({ ...minimalRepository, concurrency: 101 }),
    valid: false,
  },
  {
    name: "repository: no chats",
    kind: "Repository",
    input: repositoryOf({ ...minimalRepository, notify: { telegram: { chats: [] } } }),
    valid: false,
  },
  {
    name: "repository: history keep 0",
    kind: "Repository",
    input: repositoryOf({ ...minimalRepository, history: { keep: 0 } }),
    valid: false,
  },
  {
    name: "repository: webhook without secret",
    kind: "Repository",
    input: repositoryOf({ ...minimalRepository, webhook: {} }),
    valid: false,
  },
  {
    name: "repository: not a URL",
    kind: "Repository",
    input: repositoryOf({ github: { ...minimalRepository.github, apiURL: "ghe.example" } }),
    valid: false,
  },
  {
    name: "repository: a path is not a URL",
    kind: "Repository",
    input: repositoryOf({ github: { ...minimalRepository.github, apiURL: "/api/v3" } }),
    valid: false,
  },
  {
    name: "repository: unknown notify event",
    kind: "Repository",
    input: repositoryOf({ ...minimalRepository, notify: { telegram: { chats: ["1"], when: ["always"] } } }),
    valid: false,
  },
  {
    name: "repository: no github",
    kind: "Repository",
    input: repositoryOf({ branches: ["main"] }),
    valid: false,
  },
];

describe("zod and the CRD schemas agree", () => {
  for (const s of samples) {
    test(s.name, () => {
      assert.equal(assertAgree(s.kind, s.input), s.valid, `expected ${s.valid ? "valid" : "invalid"}`);
    });
  }

  test("defaults: zod fills exactly what the server fills", () => {
    const { admitted } = compare("Repository", repositoryOf(minimalRepository));
    assert.deepEqual((admitted.object as { spec: unknown }).spec, {
      github: { owner: "acme", name: "api" },
      branches: ["**"],
      tags: false,
      manifest: ".kiln.yaml",
      concurrency: 2,
      cancelSuperseded: true,
      history: { keep: 50 },
      approveForks: true,
    });
  });

  test("defaults: a Build written by hand (repository, sha, branch) is manual, with the spec's defaults", () => {
    const handWritten = buildOf({ repository: "api", revision: { sha, branch: "main" } });
    assert.ok(assertAgree("Build", handWritten));
    const { admitted } = compare("Build", handWritten);
    assert.deepEqual((admitted.object as { spec: unknown }).spec, {
      repository: "api",
      revision: { sha, branch: "main" },
      trigger: { event: "manual" },
      pauseOnFailure: false,
      timeout: "1h",
      cancel: false,
    });
    // A trigger that is there is kept as it is.
    const { admitted: push } = compare("Build", buildOf(minimalBuild));
    assert.deepEqual((push.object as { spec: { trigger: unknown } }).spec.trigger, { event: "push" });
  });

  test("pruning: the server reports the unknown fields zod strips silently", () => {
    const { admitted } = compare("Build", buildOf({ ...minimalBuild, priority: 1 }, { node: "n" }));
    assert.deepEqual(admitted.unknownFields, ["spec.priority", "status.node"]);
  });

  test("known difference: a null the schema does not allow is dropped (or defaulted) by the server, refused by zod", () => {
    const input = buildOf({
      ...minimalBuild,
      revision: { ...minimalBuild.revision, branch: null },
      timeout: null,
    });
    const { parsed, admitted } = compare("Build", input);
    assert.equal(parsed.success, false);
    assert.deepEqual(admitted.errors, []);
    // What the server stores never holds such a null, so readers that parse with zod accept it.
    assert.ok(assertAgree("Build", admitted.object));
    assert.equal((admitted.object as { spec: { timeout: string } }).spec.timeout, "1h");
  });

  const examples = readdirSync(new URL("../manifests/examples/", import.meta.url))
    .filter((f) => f.endsWith(".yaml"))
    .flatMap((f) =>
      // YAML 1.1, as kubectl reads files (sigs.k8s.io/yaml): there an unquoted `on` or `yes` key is a boolean.
      parseAllDocuments(
        readFileSync(join(new URL("../manifests/examples/", import.meta.url).pathname, f), "utf8"),
        {
          version: "1.1",
        },
      )
        .map((d) => d.toJS())
        .filter((d) => d?.apiVersion === API_VERSION && (d.kind === "Build" || d.kind === "Repository"))
        .map((d) => ({ file: f, doc: d as { kind: Kind } })),
    );

  test("the examples exist", () =>
    assert.deepEqual(new Set(examples.map((e) => e.doc.kind)), new Set(["Build", "Repository"])));
  for (const { file, doc } of examples) {
    test(`manifests/examples/${file}: ${doc.kind} passes both`, () => {
      assert.equal(assertAgree(doc.kind, doc), true);
      assert.deepEqual(compare(doc.kind, doc).admitted.unknownFields, []);
    });
  }
});

describe("property: zod and the CRD agree on generated objects and their mutations", () => {
  for (const kind of ["Build", "Repository"] as const) {
    const { schema } = kinds[kind];
    const spec = arbitraryFor(schema.properties!.spec!);
    const status = fc.option(arbitraryFor(schema.properties!.status!), { nil: undefined });
    const object = fc.tuple(spec, status).map(([s, st]) => ({
      apiVersion: API_VERSION,
      kind,
      metadata: { name: "gen" },
      spec: s,
      ...(st === undefined ? {} : { status: st }),
    }));

    test(`${kind}: every generated object is valid for both`, () => {
      fc.assert(
        fc.property(object, (obj) => {
          assert.equal(assertAgree(kind, obj), true);
        }),
        { numRuns: 200 },
      );
    });

    test(`${kind}: any single mutation gets the same verdict from both`, () => {
      // Mutations leave apiVersion, kind and metadata alone: those are the API server's, not the schema's.
      const mutated = object.chain((obj) => {
        const paths = pathsOf({ spec: obj.spec, status: obj.status }).filter((p) => p.length > 0);
        return mutationOf(paths).map((m) => applyMutation(obj, m));
      });
      fc.assert(
        fc.property(mutated, (obj) => {
          assertAgree(kind, obj);
        }),
        { numRuns: 600 },
      );
    });
  }
});
