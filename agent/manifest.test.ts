import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { formatError, parsePipeline, suggest } from "./manifest.ts";

const VALID = `image: node:24
services:
  - {name: postgres, image: postgres:17, env: {POSTGRES_PASSWORD: test}, ports: [5432], ready: {port: 5432}}
env: {CI: true, N: 3}
steps:
  - {name: install, run: npm ci}
  - name: test
    run: |
      npm test
    timeout: 10m
    when: {branches: [main, "release/*"]}
  - {name: debug, type: pause, timeout: 15m}
timeout: 1h30m
cache: {key: npm, paths: [node_modules], files: [package-lock.json]}
secrets: [{env: NPM_TOKEN, secretRef: {name: npm, key: token}}]
`;

describe("parsePipeline", () => {
  test("a valid manifest becomes a pipeline with durations in ms and env as strings", () => {
    const r = parsePipeline(VALID);
    assert.ok(r.ok, r.ok ? "" : r.errors.map(formatError).join("\n"));
    const p = r.pipeline;
    assert.equal(p.timeout, 90 * 60_000);
    assert.deepEqual(p.env, { CI: "true", N: "3" });
    assert.deepEqual(
      p.steps.map((s) => [s.name, s.type ?? "run", s.timeout]),
      [
        ["install", "run", undefined],
        ["test", "run", 600_000],
        ["debug", "pause", 900_000],
      ],
    );
    assert.equal(p.services[0]?.ready?.port, 5432);
    assert.deepEqual(p.cache?.paths, ["node_modules"]);
    assert.equal(p.secrets[0]?.secretRef.name, "npm");
  });

  const cases: [string, string, string][] = [
    [
      "misspelt top-level key",
      "stpes:\n  - {name: a, run: x}\n",
      '.kiln.yaml:1:1: unknown key "stpes"; did you mean "steps"?',
    ],
    [
      "misspelt step key",
      "steps:\n  - name: a\n    rn: x\n",
      '.kiln.yaml:3:5: steps[0]: unknown key "rn"; did you mean "run"?',
    ],
    [
      "unknown key without a near one",
      "steps:\n  - {name: a, run: x}\nwhatever: 1\n",
      '.kiln.yaml:3:1: unknown key "whatever"; known keys: image, user, resources, services, env, steps, timeout, cache, secrets',
    ],
    ["YAML syntax", "steps: [\n  - a\n", ".kiln.yaml:2:3: YAML syntax:"],
    [
      "steps of the wrong type",
      "steps: hello\n",
      '.kiln.yaml:1:8: steps: must be a list, not the string "hello"',
    ],
    ["empty steps", "steps: []\n", ".kiln.yaml:1:8: steps: the pipeline has no steps"],
    ["no steps at all", "image: x\n", ".kiln.yaml:1:1: steps: is missing (it must be a list)"],
    ["empty file", "", ".kiln.yaml:1:1: the file is empty"],
    [
      "bad duration",
      "steps:\n  - {name: a, run: x, timeout: 10x}\n",
      '.kiln.yaml:2:32: steps[0].timeout: "10x" is not a duration',
    ],
    [
      "duration without unit",
      "steps:\n  - {name: a, run: x}\ntimeout: 30\n",
      '.kiln.yaml:3:10: timeout: a duration needs a unit: write "30s" or "30m"',
    ],
    [
      "duplicate step names",
      "steps:\n  - {name: a, run: x}\n  - {name: a, run: y}\n",
      '.kiln.yaml:3:12: steps[1].name: two steps are called "a" (the other is steps[0])',
    ],
    [
      "missing run",
      "steps:\n  - name: a\n",
      ".kiln.yaml:2:5: steps[0].run: is missing (it must be a string)",
    ],
    [
      "run of the wrong type",
      "steps:\n  - {name: a, run: [x]}\n",
      ".kiln.yaml:2:20: steps[0].run: must be a string, not a list",
    ],
    [
      "unknown step type",
      "steps:\n  - {name: a, type: wait}\n",
      '.kiln.yaml:2:21: steps[0].type: unknown step type "wait"; use run or pause',
    ],
    [
      "pause with a run",
      "steps:\n  - {name: a, type: pause, run: x}\n",
      '.kiln.yaml:2:28: steps[0]: unknown key "run"',
    ],
    [
      "bad env name",
      "env: {1X: y}\nsteps:\n  - {name: a, run: x}\n",
      ".kiln.yaml:1:7: env.1X: an environment variable name",
    ],
    [
      "readiness without port or command",
      "services:\n  - {name: pg, image: p, ready: {}}\nsteps:\n  - {name: a, run: x}\n",
      ".kiln.yaml:2:33: services[0].ready: give the readiness check either a port or a command",
    ],
    [
      "bad port",
      "services:\n  - {name: pg, image: p, ports: [70000]}\nsteps:\n  - {name: a, run: x}\n",
      ".kiln.yaml:2:34: services[0].ports[0]: is too big",
    ],
    [
      "duplicate key",
      "steps:\n  - {name: a, run: x}\nsteps: []\n",
      ".kiln.yaml:3:1: YAML syntax: Map keys must be unique",
    ],
    [
      "top level is a list",
      "- a\n",
      ".kiln.yaml:1:1: the manifest: must be a map of keys to values, not a list",
    ],
    [
      "empty when",
      "steps:\n  - {name: a, run: x, when: {branches: []}}\n",
      ".kiln.yaml:2:40: steps[0].when.branches: list at least one branch pattern",
    ],
    [
      "bad user",
      "user: node\nsteps:\n  - {name: a, run: x}\n",
      '.kiln.yaml:1:7: user: "node" is not a user: write a uid such as 1000, or 1000:1000',
    ],
    [
      "bad quantity",
      "resources: {requests: {memory: 2GB}}\nsteps:\n  - {name: a, run: x}\n",
      '.kiln.yaml:1:32: resources.requests.memory: "2GB" is not a quantity',
    ],
    [
      "unknown resource",
      "resources: {limits: {gpu: 1}}\nsteps:\n  - {name: a, run: x}\n",
      '.kiln.yaml:1:22: resources.limits: unknown key "gpu"',
    ],
    [
      "service command not a list",
      "services:\n  - {name: pg, image: p, command: postgres -c fsync=off}\nsteps:\n  - {name: a, run: x}\n",
      ".kiln.yaml:2:35: services[0].command: must be a list",
    ],
    [
      "service args not a list",
      "services:\n  - {name: pg, image: p, args: -c fsync=off}\nsteps:\n  - {name: a, run: x}\n",
      ".kiln.yaml:2:32: services[0].args: must be a list",
    ],
  ];

  test("user, resources, and a service's command and args (postgres -c fsync=off)", () => {
    const r = parsePipeline(`image: node:24
user: 1000
resources: {requests: {cpu: 2, memory: 1Gi}, limits: {memory: 4Gi}}
services:
  - name: postgres
    image: postgres:17
    args: [-c, fsync=off]
    user: "999:999"
    resources: {limits: {memory: 512Mi}}
  - {name: redis, image: redis:7, command: [redis-server, --save, ""]}
steps:
  - {name: a, run: x}
`);
    assert.ok(r.ok, r.ok ? "" : r.errors.map(formatError).join("\n"));
    assert.deepEqual(r.pipeline.user, { uid: 1000 });
    assert.deepEqual(r.pipeline.resources, {
      requests: { cpu: "2", memory: "1Gi" },
      limits: { memory: "4Gi" },
    });
    const [postgres, redis] = r.pipeline.services;
    assert.deepEqual(postgres?.args, ["-c", "fsync=off"]);
    assert.deepEqual(postgres?.user, { uid: 999, gid: 999 });
    assert.deepEqual(postgres?.resources, { limits: { memory: "512Mi" } });
    assert.deepEqual(redis?.command, ["redis-server", "--save", ""]);
  });
  for (const [what, text, expected] of cases) {
    test(`error: ${what}`, () => {
      const r = parsePipeline(text);
      assert.ok(!r.ok, "expected errors");
      const all = r.errors.map(formatError);
      assert.ok(
        all.some((e) => e.startsWith(expected)),
        `expected one error starting with\n  ${expected}\ngot\n  ${all.join("\n  ")}`,
      );
    });
  }

  test("suggest uses edit distance with transpositions", () => {
    assert.equal(suggest("stpes", ["image", "steps"]), "steps");
    assert.equal(suggest("imag", ["image", "steps"]), "image");
    assert.equal(suggest("zzz", ["image", "steps"]), undefined);
  });

  test("property: any mutated manifest gives a pipeline or located errors, never a throw", () => {
    const lines = VALID.split("\n").length;
    const mutation = fc.oneof(
      fc.record({
        kind: fc.constant("insert" as const),
        at: fc.nat(),
        text: fc.oneof(
          fc.string(),
          fc.constantFrom(
            ":",
            "-",
            "[",
            "{",
            "\n",
            "  ",
            "*a",
            "&a",
            "!!int",
            "'",
            '"',
            "#",
            "steps:",
            "type: pause",
            "timeout: 5",
          ),
        ),
      }),
      fc.record({
        kind: fc.constant("delete" as const),
        at: fc.nat(),
        length: fc.integer({ min: 1, max: 20 }),
      }),
      fc.record({ kind: fc.constant("swapLines" as const), a: fc.nat(), b: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 5 }), (mutations) => {
        let text = VALID;
        for (const m of mutations) {
          if (m.kind === "insert") {
            const at = m.at % (text.length + 1);
            text = text.slice(0, at) + m.text + text.slice(at);
          } else if (m.kind === "delete") {
            const at = m.at % (text.length + 1);
            text = text.slice(0, at) + text.slice(at + m.length);
          } else {
            const ls = text.split("\n");
            const a = m.a % ls.length;
            const b = m.b % ls.length;
            [ls[a], ls[b]] = [ls[b]!, ls[a]!];
            text = ls.join("\n");
          }
        }
        const r = parsePipeline(text, "fuzz.yaml");
        if (r.ok) {
          assert.ok(r.pipeline.steps.length > 0);
          assert.equal(new Set(r.pipeline.steps.map((s) => s.name)).size, r.pipeline.steps.length);
        } else {
          assert.ok(r.errors.length > 0);
          const textLines = text.split("\n").length;
          for (const e of r.errors) {
            assert.equal(e.file, "fuzz.yaml");
            assert.ok(e.line >= 1 && e.line <= Math.max(textLines, lines) + 1, `line ${e.line}`);
            assert.ok(e.column >= 1, `column ${e.column}`);
            assert.ok(e.message.length > 5 && !e.message.includes("undefined"), e.message);
          }
        }
      }),
      { numRuns: 400 },
    );
  });
});
