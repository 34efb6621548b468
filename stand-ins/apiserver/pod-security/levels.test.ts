// Namespace labels to policy (kube's PolicyToEvaluate), the plugin configuration, and which checks each
// level and version runs, in which order.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { resolveConfiguration } from "./config.ts";
import { aggregate, forbiddenDetail, forbiddenReason, newEvaluator } from "./evaluator.ts";
import { goQuote } from "./go-text.ts";
import { levelVersionString, type Policy, parseVersion, policyToEvaluate } from "./levels.ts";

const PRIVILEGED: Policy = {
  enforce: { level: "privileged", version: "latest" },
  audit: { level: "privileged", version: "latest" },
  warn: { level: "privileged", version: "latest" },
};

const L = "pod-security.kubernetes.io/";

function summary(labels: Record<string, string>): [string, string, string, string[]] {
  const { policy, errors } = policyToEvaluate(labels, PRIVILEGED);
  return [
    levelVersionString(policy.enforce),
    levelVersionString(policy.audit),
    levelVersionString(policy.warn),
    errors.map((e) => `${e.field}=${e.value}: ${e.detail}`),
  ];
}

describe("namespace labels", () => {
  const cases: [string, Record<string, string>, ReturnType<typeof summary>][] = [
    ["none", {}, ["privileged:latest", "privileged:latest", "privileged:latest", []]],
    [
      "Kiln's namespace",
      { [`${L}enforce`]: "baseline", [`${L}warn`]: "restricted" },
      ["baseline:latest", "privileged:latest", "restricted:latest", []],
    ],
    [
      "warn follows a stricter enforce, with its version",
      { [`${L}enforce`]: "restricted", [`${L}enforce-version`]: "v1.24" },
      ["restricted:v1.24", "privileged:latest", "restricted:v1.24", []],
    ],
    [
      "warn follows the level but keeps its own version",
      { [`${L}enforce`]: "baseline", [`${L}enforce-version`]: "v1.24", [`${L}warn-version`]: "v1.30" },
      ["baseline:v1.24", "privileged:latest", "baseline:v1.30", []],
    ],
    [
      "an explicit warn is kept",
      { [`${L}enforce`]: "restricted", [`${L}warn`]: "privileged" },
      ["restricted:latest", "privileged:latest", "privileged:latest", []],
    ],
    [
      "a bad enforce level is restricted, and warn does not follow it",
      { [`${L}enforce`]: "strict" },
      [
        "restricted:latest",
        "privileged:latest",
        "privileged:latest",
        [`metadata.labels[${L}enforce]=strict: must be one of privileged, baseline, restricted`],
      ],
    ],
    [
      "bad audit and warn levels fail open",
      { [`${L}audit`]: "Restricted", [`${L}warn`]: "" },
      [
        "privileged:latest",
        "privileged:latest",
        "privileged:latest",
        [
          `metadata.labels[${L}audit]=Restricted: must be one of privileged, baseline, restricted`,
          `metadata.labels[${L}warn]=: must be one of privileged, baseline, restricted`,
        ],
      ],
    ],
    [
      "a bad version is latest",
      { [`${L}enforce`]: "baseline", [`${L}enforce-version`]: "v1.01" },
      [
        "baseline:latest",
        "privileged:latest",
        "baseline:latest",
        [`metadata.labels[${L}enforce-version]=v1.01: must be "latest" or "v1.x"`],
      ],
    ],
  ];
  for (const [name, labels, expected] of cases) test(name, () => assert.deepEqual(summary(labels), expected));

  test("versions", () => {
    assert.deepEqual(parseVersion("v1.0"), { version: 0 });
    assert.deepEqual(parseVersion("v1.99"), { version: 99 });
    for (const bad of ["v2.0", "1.24", "v1.", "v1.2.3", "Latest"]) assert.ok(parseVersion(bad).error, bad);
  });

  test("values are quoted as Go quotes them", () => {
    assert.equal(goQuote('a"b\\c\n'), '"a\\"b\\\\c\\n"');
  });
});

describe("configuration", () => {
  test("defaults are privileged:latest with no exemptions", () => {
    const c = resolveConfiguration();
    assert.deepEqual(c.defaults, PRIVILEGED);
    assert.equal(
      c.exemptions.namespaces.size + c.exemptions.usernames.size + c.exemptions.runtimeClasses.size,
      0,
    );
  });
  test("an invalid configuration is refused with every problem", () => {
    assert.throws(
      () =>
        resolveConfiguration({
          defaults: { enforce: "strict", "warn-version": "1.2" },
          exemptions: { namespaces: ["Bad_NS", "a", "a"], usernames: [""] },
        }),
      (e: Error) =>
        e.message.startsWith(
          'PodSecurity invalid: [defaults.enforce: Invalid value: "strict": must be one of',
        ) &&
        e.message.includes('defaults.warn-version: Invalid value: "1.2": must be "latest" or "v1.x"') &&
        e.message.includes('exemptions.namespaces[0]: Invalid value: "Bad_NS"') &&
        e.message.includes('exemptions.namespaces[2]: Duplicate value: "a"') &&
        e.message.includes('exemptions.usernames[0]: Invalid value: "": username must not be empty'),
    );
  });
});

describe("evaluator", () => {
  const evaluator = newEvaluator();
  const rootPod = { containers: [{ name: "x", image: "busybox" }], hostPID: true };
  const evaluate = (level: "baseline" | "restricted", version: number | "latest") =>
    aggregate(evaluator.evaluatePod({ level, version }, {}, rootPod));

  test("the newest version any check names is v1.34", () => assert.equal(evaluator.maxVersion, 34));

  test("restricted runs baseline checks first, then its own, each sorted by id", () => {
    assert.equal(
      forbiddenReason(evaluate("restricted", "latest")),
      "host namespaces, allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile",
    );
  });

  test("older versions run the checks of their time", () => {
    // v1.21: no capabilities_restricted yet; v1.18: no seccomp requirement; v1.7: no allowPrivilegeEscalation.
    assert.equal(
      forbiddenReason(evaluate("restricted", 21)),
      "host namespaces, allowPrivilegeEscalation != false, runAsNonRoot != true, seccompProfile",
    );
    assert.equal(
      forbiddenReason(evaluate("restricted", 18)),
      "host namespaces, allowPrivilegeEscalation != false, runAsNonRoot != true",
    );
    assert.equal(forbiddenReason(evaluate("restricted", 7)), "host namespaces, runAsNonRoot != true");
  });

  test("versions past the newest evaluate as the newest", () => {
    assert.deepEqual(evaluate("restricted", 99), evaluate("restricted", "latest"));
    assert.deepEqual(evaluate("baseline", 40), evaluate("baseline", 34));
  });

  test("restricted replaces baseline checks it overrides: one capabilities message, not two", () => {
    const pod = { containers: [{ name: "x", securityContext: { capabilities: { add: ["SYS_ADMIN"] } } }] };
    const restricted = aggregate(evaluator.evaluatePod({ level: "restricted", version: "latest" }, {}, pod));
    assert.ok(!restricted.reasons.includes("non-default capabilities"));
    const old = aggregate(evaluator.evaluatePod({ level: "restricted", version: 21 }, {}, pod));
    assert.ok(old.reasons.includes("non-default capabilities"));
  });

  test("privileged runs nothing; details in parentheses", () => {
    assert.equal(evaluator.evaluatePod({ level: "privileged", version: "latest" }, {}, rootPod).length, 0);
    assert.equal(forbiddenDetail(evaluate("baseline", "latest")), "host namespaces (hostPID=true)");
  });
});
