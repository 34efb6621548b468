// Every error a .kiln.yaml can get, word for word and in order, and the pipelines valid ones become, key
// for key: a user reads these sentences, so a changed word, a lost suggestion, a wrong position or a
// duplicate complaint is a regression. (manifest.test.ts has the main cases and the fuzzing.)
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { formatError, ManifestInvalidError, parsePipeline, suggest } from "./manifest.ts";
import { isPause } from "./manifest-schema.ts";

const STEP = "steps:\n  - {name: a, run: x}\n";
const errorsOf = (text: string) => {
  const r = parsePipeline(text);
  return r.ok ? [`valid: ${JSON.stringify(r.pipeline)}`] : r.errors.map(formatError);
};

describe("errors, exactly", () => {
  const rows: [what: string, text: string, errors: string[]][] = [
    // A misspelt key is reported once, as a misspelling, not also as the real key missing.
    [
      "a misspelt step key",
      "steps:\n  - name: a\n    rn: x\n",
      ['.kiln.yaml:3:5: steps[0]: unknown key "rn"; did you mean "run"?'],
    ],
    [
      "a misspelt key in a list of maps",
      `services:\n  - {nme: pg, image: p}\n${STEP}`,
      ['.kiln.yaml:2:6: services[0]: unknown key "nme"; did you mean "name"?'],
    ],
    [
      "a misspelt key two maps deep",
      `services:\n  - {name: pg, image: p, ready: {prot: 5432}}\n${STEP}`,
      [
        ".kiln.yaml:2:33: services[0].ready: give the readiness check either a port or a command",
        '.kiln.yaml:2:34: services[0].ready: unknown key "prot"; did you mean "port"?',
      ],
    ],
    [
      "a misspelt key in an optional map",
      `cache: {ky: npm, paths: [a]}\n${STEP}`,
      ['.kiln.yaml:1:9: cache: unknown key "ky"; did you mean "key"?'],
    ],
    [
      "a misspelt top-level key",
      "stpes:\n  - {name: a, run: x}\n",
      ['.kiln.yaml:1:1: unknown key "stpes"; did you mean "steps"?'],
    ],
    [
      "errors in order of position, whichever part found them",
      "steps:\n  - {name: a, run: [x]}\ntimeout: 30\nimage: ''\n",
      [
        ".kiln.yaml:2:20: steps[0].run: must be a string, not a list",
        '.kiln.yaml:3:10: timeout: a duration needs a unit: write "30s" or "30m", not 30',
        ".kiln.yaml:4:8: image: must not be empty",
      ],
    ],
    [
      "two on one line, by column",
      "steps:\n  - {name: a, run: 5, timeout: 5}\n",
      [
        ".kiln.yaml:2:20: steps[0].run: must be a string, not the number 5",
        '.kiln.yaml:2:32: steps[0].timeout: a duration needs a unit: write "5s" or "5m", not 5',
      ],
    ],
    [
      "an empty step",
      "steps:\n  -\n  - {name: b, run: x}\n",
      [".kiln.yaml:2:4: steps[0]: must be a map of keys to values, not empty (null)"],
    ],
    [
      "a step that is a string",
      "steps:\n  - just a string\n",
      ['.kiln.yaml:2:5: steps[0]: must be a map of keys to values, not the string "just a string"'],
    ],
    [
      "names that are not strings are wrong names, not duplicates",
      "steps:\n  - {name: 1, run: x}\n  - {name: 1, run: y}\n",
      [
        ".kiln.yaml:2:12: steps[0].name: must be a string, not the number 1",
        ".kiln.yaml:3:12: steps[1].name: must be a string, not the number 1",
      ],
    ],
    [
      "an alias bomb",
      "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nsteps: [*c]\n",
      [".kiln.yaml:1:1: cannot read the YAML: Excessive alias count indicates a resource exhaustion attack"],
    ],
    [
      "YAML syntax, each error where it is, its first line only",
      "steps: [\n  - a\n",
      [
        ".kiln.yaml:2:3: YAML syntax: Block collections are not allowed within flow collections",
        ".kiln.yaml:3:1: YAML syntax: Flow sequence in block collection must be sufficiently indented and end with a ]",
      ],
    ],
    [
      "a bad key of a step's env, at the key",
      "steps:\n  - {name: a, run: x, env: {1X: y}}\n",
      [
        ".kiln.yaml:2:29: steps[0].env.1X: an environment variable name has letters, digits and _ and does not start with a digit",
      ],
    ],
    [
      "an env name with a dash",
      `env: {A-B: x}\n${STEP}`,
      [
        ".kiln.yaml:1:7: env.A-B: an environment variable name has letters, digits and _ and does not start with a digit",
      ],
    ],
    [
      "a number too small",
      `services:\n  - {name: pg, image: p, ports: [0]}\n${STEP}`,
      [".kiln.yaml:2:34: services[0].ports[0]: is too small (at least 1)"],
    ],
    [
      "an empty run script",
      "steps:\n  - {name: a, run: ''}\n",
      [".kiln.yaml:2:20: steps[0].run: the run script is empty"],
    ],
    ["an empty string", `image: ''\n${STEP}`, [".kiln.yaml:1:8: image: must not be empty"]],
    [
      "an empty string in a list",
      "steps:\n  - {name: a, run: x, when: {branches: ['']}}\n",
      [".kiln.yaml:2:41: steps[0].when.branches[0]: must not be empty"],
    ],
    [
      "a user that is a list",
      `user: [1]\n${STEP}`,
      [".kiln.yaml:1:7: user: must be a number or a string, not a list"],
    ],
    ["a negative user", `user: -1\n${STEP}`, [".kiln.yaml:1:7: user: is too small (at least 0)"]],
    [
      "an env value that is a list",
      `env: {A: [1]}\n${STEP}`,
      [".kiln.yaml:1:10: env.A: must be a string or a number or true or false, not a list"],
    ],
    [
      "env as a list",
      `env: [1]\n${STEP}`,
      [".kiln.yaml:1:6: env: must be a map of keys to values, not a list"],
    ],
    [
      "a port that is a string",
      `services:\n  - {name: pg, image: p, ready: {port: x}}\n${STEP}`,
      ['.kiln.yaml:2:40: services[0].ready.port: must be a number, not the string "x"'],
    ],
    [
      "null",
      "steps:\n  - {name: a, run: null}\n",
      [".kiln.yaml:2:20: steps[0].run: must be a string, not empty (null)"],
    ],
    [
      "a map",
      "steps:\n  - {name: a, run: {a: 1}}\n",
      [".kiln.yaml:2:20: steps[0].run: must be a string, not a map"],
    ],
    [
      "true",
      "steps:\n  - {name: a, run: true}\n",
      [".kiln.yaml:2:20: steps[0].run: must be a string, not true"],
    ],
    [
      "a string of 41 characters is cut at 40",
      `steps: ${"x".repeat(41)}\n`,
      [`.kiln.yaml:1:8: steps: must be a list, not the string "${"x".repeat(40)}…"`],
    ],
    [
      "a string of 40 is shown whole",
      `steps: ${"x".repeat(40)}\n`,
      [`.kiln.yaml:1:8: steps: must be a list, not the string "${"x".repeat(40)}"`],
    ],
    [
      "step names start with a letter or digit and end with one (or _ .)",
      "steps:\n  - {name: -a, run: x}\n  - {name: a-, run: x}\n  - {name: 'a b.c_d', run: x}\n",
      [
        ".kiln.yaml:2:12: steps[0].name: a step name has letters, digits, spaces, '-', '_' or '.', at most 63 characters",
        ".kiln.yaml:3:12: steps[1].name: a step name has letters, digits, spaces, '-', '_' or '.', at most 63 characters",
      ],
    ],
    [
      "service names are lowercase DNS labels; one letter is one",
      `services:\n  - {name: Postgres, image: p}\n  - {name: pg_, image: p}\n  - {name: p, image: p}\n${STEP}`,
      [
        ".kiln.yaml:2:12: services[0].name: a service name is a lowercase DNS label, such as postgres",
        ".kiln.yaml:3:12: services[1].name: a service name is a lowercase DNS label, such as postgres",
      ],
    ],
    [
      "quantities: the whole value (x2 is not 2), decimals of any length",
      `resources: {requests: {cpu: x2, memory: 1.25Gi}, limits: {cpu: 1.5, memory: 512Mi}}\n${STEP}`,
      [
        '.kiln.yaml:1:29: resources.requests.cpu: "x2" is not a quantity: write it like 500m, 2, 512Mi or 4Gi',
      ],
    ],
    [
      "a user with something before",
      `user: x1000\n${STEP}`,
      ['.kiln.yaml:1:7: user: "x1000" is not a user: write a uid such as 1000, or 1000:1000'],
    ],
    [
      "a user with something after",
      `user: 1000x\n${STEP}`,
      ['.kiln.yaml:1:7: user: "1000x" is not a user: write a uid such as 1000, or 1000:1000'],
    ],
    [
      "a zero timeout",
      `timeout: 0s\n${STEP}`,
      ['.kiln.yaml:1:10: timeout: "0s" is not a duration: write it like 90s, 10m or 1h30m'],
    ],
    [
      "a readiness check with both a port and a command",
      `services:\n  - {name: pg, image: p, ready: {port: 5432, command: pg_isready}}\n${STEP}`,
      [".kiln.yaml:2:33: services[0].ready: give the readiness check either a port or a command"],
    ],
    [
      "no paths to cache",
      `cache: {key: npm, paths: []}\n${STEP}`,
      [".kiln.yaml:1:26: cache.paths: list at least one path to cache"],
    ],
    [
      "cache paths that go up, into Kiln's own, or at the system",
      `cache:\n  key: npm\n  paths:\n    - ../up\n    - /kiln/x\n    - /usr\n    - ~/.npm\n    - /proc/1\n${STEP}`,
      [
        ".kiln.yaml:4:7: cache.paths[0]: a path cannot go up with ..",
        ".kiln.yaml:5:7: cache.paths[1]: /kiln cannot hold a cache path",
        ".kiln.yaml:6:7: cache.paths[2]: /usr is a directory of the image's system: cache something inside it, such as /root/.npm",
        ".kiln.yaml:7:7: cache.paths[3]: ~ is not expanded: write the absolute path (the build container's home is its image's, often /root)",
        ".kiln.yaml:8:7: cache.paths[4]: /proc cannot hold a cache path",
      ],
    ],
    [
      "the workspace itself, its .git, and a glob",
      `cache: {key: npm, paths: [/workspace, .git, "dist/*"]}\n${STEP}`,
      [
        ".kiln.yaml:1:27: cache.paths[0]: the workspace itself cannot be cached: name what to keep in it, such as node_modules",
        ".kiln.yaml:1:39: cache.paths[1]: the checkout's .git cannot be cached",
        ".kiln.yaml:1:45: cache.paths[2]: globs are not supported: name a directory or a file",
      ],
    ],
    [
      "cache paths that overlap",
      `cache:\n  key: npm\n  paths: [node_modules, /workspace/node_modules/.cache]\n${STEP}`,
      [
        ".kiln.yaml:3:25: cache.paths[1]: /workspace/node_modules/.cache and paths[0] (node_modules) overlap: list one of them",
      ],
    ],
    [
      "a cache key with a slash, a file outside the workspace",
      `cache: {key: "npm/x", paths: [a], files: [/etc/passwd]}\n${STEP}`,
      [
        ".kiln.yaml:1:14: cache.key: a cache key has letters, digits, '.', '_' or '-', at most 100",
        ".kiln.yaml:1:43: cache.files[0]: a file hashed into the key must be in the workspace (write it relative to it)",
      ],
    ],
    [
      "an empty service command",
      `services:\n  - {name: pg, image: p, command: []}\n${STEP}`,
      [".kiln.yaml:2:35: services[0].command: the command is empty"],
    ],
    [
      "a secret's env",
      `secrets: [{env: 1A, secretRef: {name: n, key: k}}]\n${STEP}`,
      [".kiln.yaml:1:17: secrets[0].env: env must be an environment variable name"],
    ],
    [
      "two secrets of one variable",
      `secrets:\n  - {env: T, secretRef: {name: a, key: k}}\n  - {env: T, secretRef: {name: b, key: k}}\n${STEP}`,
      [".kiln.yaml:3:11: secrets[1].env: secrets[0] is T too; each secret needs a variable of its own"],
    ],
    [
      "a secret's variable that Kiln sets",
      `secrets: [{env: KILN_STEP, secretRef: {name: a, key: k}}]\n${STEP}`,
      [".kiln.yaml:1:17: secrets[0].env: KILN_STEP is set by Kiln for every step; use another name"],
    ],
    [
      "a secret's variable also set by env",
      `env: {T: x}\nsecrets: [{env: T, secretRef: {name: a, key: k}}]\nsteps:\n  - {name: a, run: x, env: {T: y}}\n`,
      [
        ".kiln.yaml:2:17: secrets[0].env: T is also set in env, steps[0].env, which would replace the secret; use another name",
      ],
    ],
    [
      "a file of comments only",
      "# nothing\n",
      [".kiln.yaml:1:1: the file is empty: it needs at least a list of steps"],
    ],
    [
      "a list where a string goes",
      `image: [a]\n${STEP}`,
      [".kiln.yaml:1:8: image: must be a string, not a list"],
    ],
  ];
  for (const [what, text, errors] of rows) {
    test(what, () => assert.deepEqual(errorsOf(text), errors));
  }

  test("the error type for callers that throw carries every error, one a line", () => {
    const r = parsePipeline("steps:\n  - {name: a, run: [x]}\ntimeout: 30\n", "ci/.kiln.yaml");
    assert.ok(!r.ok);
    const error = new ManifestInvalidError(r.errors);
    assert.equal(error.name, "ManifestInvalidError");
    assert.equal(error.errors, r.errors);
    assert.equal(
      error.message,
      'ci/.kiln.yaml:2:20: steps[0].run: must be a string, not a list\nci/.kiln.yaml:3:10: timeout: a duration needs a unit: write "30s" or "30m", not 30',
    );
  });
});

describe("valid manifests, exactly", () => {
  test("only what the manifest says: no keys for what it leaves out", () => {
    assert.deepEqual(parsePipeline(STEP), {
      ok: true,
      pipeline: { services: [], env: {}, steps: [{ name: "a", run: "x" }], secrets: [] },
    });
  });

  test("everything it can say", () => {
    const r = parsePipeline(`image: node:24
user: "1000:1000"
resources: {requests: {cpu: 500m}}
services:
  - {name: pg, image: postgres:17, ready: {command: pg_isready -U postgres}}
env: {CI: true}
steps:
  - {name: a, type: run, run: x}
  - {name: b, type: pause}
timeout: 1h
cache: {key: npm, paths: [a, b], files: [c]}
secrets: [{env: T, secretRef: {name: n, key: k}}]
`);
    assert.deepEqual(r, {
      ok: true,
      pipeline: {
        image: "node:24",
        user: { uid: 1000, gid: 1000 },
        resources: { requests: { cpu: "500m" } },
        services: [{ name: "pg", image: "postgres:17", ready: { command: "pg_isready -U postgres" } }],
        env: { CI: "true" },
        steps: [
          { name: "a", type: "run", run: "x" },
          { name: "b", type: "pause" },
        ],
        timeout: 3_600_000,
        cache: { key: "npm", paths: ["a", "b"], files: ["c"] },
        secrets: [{ env: "T", secretRef: { name: "n", key: "k" } }],
      },
    });
    assert.ok(r.ok);
    assert.deepEqual(r.pipeline.steps.map(isPause), [false, true]);
  });
});

test("suggest: the closest known key within one edit for short words, two for longer; the first of equals", () => {
  const rows: [word: string, known: string[], expected: string | undefined][] = [
    ["stpes", ["steps"], "steps"], // a transposition is one edit
    ["tseps", ["steps"], "steps"], // at the start
    ["stesp", ["steps"], "steps"], // at the end
    ["stpesx", ["steps"], "steps"], // a transposition and a deletion: two
    ["evn", ["env"], "env"], // a short word: one edit, and a transposition is one
    ["nev", ["env"], "env"],
    ["enb", ["env"], "env"],
    ["teps", ["steps"], "steps"], // an insertion at the start
    ["xsteps", ["steps"], "steps"], // a deletion at the start
    ["stepss", ["steps"], "steps"],
    ["ster", ["steps"], "steps"], // four letters: two edits allowed
    ["stp", ["steps"], undefined], // three letters: only one
    ["zzz", ["image", "steps"], undefined],
    ["STEPS", ["steps"], "steps"], // case does not count
    ["imag", ["image", "images"], "image"],
    ["imag", ["images", "image"], "image"], // the closest, not the last within reach
    ["stxps", ["steps", "stops"], "steps"], // equally close: the first
    ["stxps", ["stops", "steps"], "stops"],
  ];
  for (const [word, known, expected] of rows) {
    assert.equal(suggest(word, known), expected, `${word} among ${known.join(", ")}`);
  }
});
