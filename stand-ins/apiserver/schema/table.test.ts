import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { parse, parseAllDocuments } from "yaml";
import {
  type AdditionalPrinterColumn,
  builtinTable,
  checkPrinterColumns,
  customResourceTable,
  formatFieldError,
  humanDuration,
} from "./index.ts";

const load = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), "utf8");
const columnsOf = (file: string): AdditionalPrinterColumn[] =>
  parse(load(`manifests/crds/${file}`)).spec.versions[0].additionalPrinterColumns;
const now = new Date("2026-11-22T12:00:00Z");
const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000).toISOString();

describe("humanDuration", () => {
  const cases: [number, string][] = [
    [-5, "<invalid>"],
    [-1, "0s"],
    [0, "0s"],
    [59, "59s"],
    [119, "119s"],
    [120, "2m"],
    [5 * 60 + 3, "5m3s"],
    [10 * 60 + 30, "10m"],
    [179 * 60, "179m"],
    [3 * 3600, "3h"],
    [3 * 3600 + 20 * 60, "3h20m"],
    [8 * 3600, "8h"],
    [47 * 3600, "47h"],
    [3 * 86400, "3d"],
    [3 * 86400 + 5 * 3600, "3d5h"],
    [30 * 86400, "30d"],
    [800 * 86400, "2y70d"],
    [9 * 365 * 86400, "9y"],
  ];
  for (const [seconds, text] of cases) {
    test(`${seconds}s → ${text}`, () => assert.equal(humanDuration(seconds * 1000), text));
  }
});

describe("customResourceTable", () => {
  const build = parse(load("manifests/examples/build.yaml"));
  const running = {
    ...build,
    metadata: {
      ...build.metadata,
      namespace: "kiln",
      creationTimestamp: ago(300),
      resourceVersion: "42",
      uid: "u1",
    },
    status: { phase: "Running", message: "step test", duration: "4m" },
  };

  test("Build: Name first, then the CRD's columns with type, format, description and priority", () => {
    const table = customResourceTable([running], columnsOf("builds.kiln.dev.yaml"), {
      now,
      resourceVersion: "99",
    });
    assert.equal(table.kind, "Table");
    assert.equal(table.apiVersion, "meta.k8s.io/v1");
    assert.deepEqual(table.metadata, { resourceVersion: "99" });
    assert.deepEqual(
      table.columnDefinitions?.map((c) => [c.name, c.type, c.format, c.priority]),
      [
        ["Name", "string", "name", 0],
        ["Repository", "string", "", 0],
        ["Branch", "string", "", 0],
        ["Commit", "string", "", 0],
        ["Phase", "string", "", 0],
        ["Duration", "string", "", 0],
        ["Age", "date", "", 0],
        ["Trigger", "string", "", 1],
        ["Message", "string", "", 1],
      ],
    );
    assert.equal(table.columnDefinitions?.[3]?.description, "Short commit sha");
    assert.equal(
      table.columnDefinitions?.[1]?.description,
      "Custom resource definition column (in JSONPath format): .spec.repository",
    );
    assert.deepEqual(table.rows[0]?.cells, [
      "api-main-4f2c1a9",
      "api",
      "main",
      "4f2c1a9",
      "Running",
      "4m",
      "5m",
      "manual",
      "step test",
    ]);
    assert.deepEqual(table.rows[0]?.object, {
      kind: "PartialObjectMetadata",
      apiVersion: "meta.k8s.io/v1",
      metadata: running.metadata,
    });
  });

  test("missing values are null cells; a missing creationTimestamp too", () => {
    const table = customResourceTable([build], columnsOf("builds.kiln.dev.yaml"), { now });
    assert.deepEqual(table.rows[0]?.cells, [
      "api-main-4f2c1a9",
      "api",
      "main",
      "4f2c1a9",
      null,
      null,
      null,
      "manual",
      null,
    ]);
    assert.deepEqual(table.metadata, {});
  });

  test("Repository: the WEBHOOK column filters conditions by type", () => {
    const docs = parseAllDocuments(load("manifests/examples/repository.yaml")).map((d) => d.toJS());
    const repo = docs.find((d) => d.kind === "Repository");
    repo.metadata.creationTimestamp = ago(3 * 86400 + 3600);
    repo.status = {
      conditions: [
        { type: "Other", status: "False", reason: "X", lastTransitionTime: ago(10) },
        { type: "WebhookReady", status: "True", reason: "Registered", lastTransitionTime: ago(10) },
      ],
      lastBuild: "api-main-4f2c1a9",
    };
    const table = customResourceTable([repo], columnsOf("repositories.kiln.dev.yaml"), {
      now,
      includeObject: "Object",
    });
    assert.deepEqual(
      table.columnDefinitions?.map((c) => c.name),
      ["Name", "Owner", "GitHub", "Webhook", "Last Build", "Age"],
    );
    assert.deepEqual(table.rows[0]?.cells, ["api", "acme", "api", "True", "api-main-4f2c1a9", "3d1h"]);
    assert.equal(table.rows[0]?.object, repo);
  });

  test("cells follow the column type; invalid and zero dates show as kube prints them", () => {
    const columns: AdditionalPrinterColumn[] = [
      { name: "I", type: "integer", jsonPath: ".v.i" },
      { name: "N", type: "number", jsonPath: ".v.n" },
      { name: "B", type: "boolean", jsonPath: ".v.b" },
      { name: "S", type: "string", jsonPath: ".v.o" },
      { name: "SN", type: "string", jsonPath: ".v.i" },
      { name: "Wrong", type: "integer", jsonPath: ".v.s" },
      { name: "Bad", type: "date", jsonPath: ".v.s" },
      { name: "Zero", type: "date", jsonPath: ".v.empty" },
      { name: "Null", type: "string", jsonPath: ".v.nothing" },
    ];
    const obj = {
      metadata: { name: "x" },
      v: { i: 7, n: 1.5, b: true, o: { b: [1, "<"], a: 1 }, s: "soon", empty: "", nothing: null },
    };
    const table = customResourceTable([obj], columns, {
      now,
      includeObject: "None",
      continue: "c1",
      resourceVersion: "5",
    });
    assert.deepEqual(table.rows[0], {
      cells: ["x", 7, 1.5, true, '{"a":1,"b":[1,"\\u003c"]}', "7", null, "<invalid>", "<unknown>", null],
      object: null,
    });
    assert.deepEqual(table.metadata, { resourceVersion: "5", continue: "c1" });
  });

  test("without printer columns kube shows Age; noHeaders leaves the definitions out", () => {
    const obj = { metadata: { name: "x", creationTimestamp: ago(90) } };
    const table = customResourceTable([obj], [], { now });
    assert.deepEqual(
      table.columnDefinitions?.map((c) => [c.name, c.type]),
      [
        ["Name", "string"],
        ["Age", "date"],
      ],
    );
    assert.deepEqual(table.rows[0]?.cells, ["x", "90s"]);
    assert.equal(customResourceTable([obj], [], { now, noHeaders: true }).columnDefinitions, null);
  });

  test("a column whose jsonPath does not parse is refused", () => {
    assert.throws(() => customResourceTable([], [{ name: "X", type: "string", jsonPath: ".a[" }], { now }), {
      message: 'unrecognized column definition ".a["',
    });
  });
});

// Pods as kubelets report them; STATUS must read as `kubectl get pods` shows it.
const container = (state: object, extra: object = {}) => ({
  name: "c",
  ready: false,
  restartCount: 0,
  state,
  ...extra,
});
const pod = (status: object, spec: object = { containers: [{ name: "c" }] }, metadata: object = {}) => ({
  metadata: { name: "p", creationTimestamp: ago(600), ...metadata },
  spec,
  status,
});
const withInit = { initContainers: [{ name: "fetch" }], containers: [{ name: "c" }] };

const podCases: { name: string; pod: object; ready: string; status: string; restarts?: string }[] = [
  { name: "pending, not scheduled", pod: pod({ phase: "Pending" }), ready: "0/1", status: "Pending" },
  {
    name: "container creating",
    pod: pod({
      phase: "Pending",
      containerStatuses: [container({ waiting: { reason: "ContainerCreating" } })],
    }),
    ready: "0/1",
    status: "ContainerCreating",
  },
  {
    name: "running and ready",
    pod: pod({
      phase: "Running",
      containerStatuses: [container({ running: { startedAt: ago(60) } }, { ready: true })],
    }),
    ready: "1/1",
    status: "Running",
  },
  {
    name: "completed",
    pod: pod({
      phase: "Succeeded",
      containerStatuses: [container({ terminated: { exitCode: 0, reason: "Completed" } })],
    }),
    ready: "0/1",
    status: "Completed",
  },
  {
    name: "error",
    pod: pod({
      phase: "Failed",
      containerStatuses: [container({ terminated: { exitCode: 2, reason: "Error" } })],
    }),
    ready: "0/1",
    status: "Error",
  },
  {
    name: "OOMKilled",
    pod: pod({
      phase: "Failed",
      containerStatuses: [container({ terminated: { exitCode: 137, reason: "OOMKilled" } })],
    }),
    ready: "0/1",
    status: "OOMKilled",
  },
  {
    name: "terminated without a reason shows the exit code or the signal",
    pod: pod({ phase: "Failed", containerStatuses: [container({ terminated: { exitCode: 3 } })] }),
    ready: "0/1",
    status: "ExitCode:3",
  },
  {
    name: "signal",
    pod: pod({ phase: "Failed", containerStatuses: [container({ terminated: { exitCode: 0, signal: 9 } })] }),
    ready: "0/1",
    status: "Signal:9",
  },
  {
    name: "init container running",
    pod: pod(
      { phase: "Pending", initContainerStatuses: [container({ running: {} }, { name: "fetch" })] },
      withInit,
    ),
    ready: "0/1",
    status: "Init:0/1",
  },
  {
    name: "init container failed",
    pod: pod(
      {
        phase: "Failed",
        initContainerStatuses: [
          container({ terminated: { exitCode: 1, reason: "Error" } }, { name: "fetch" }),
        ],
      },
      withInit,
    ),
    ready: "0/1",
    status: "Init:Error",
  },
  {
    name: "init container failed without a reason",
    pod: pod(
      {
        phase: "Pending",
        initContainerStatuses: [container({ terminated: { exitCode: 4 } }, { name: "fetch" })],
      },
      withInit,
    ),
    ready: "0/1",
    status: "Init:ExitCode:4",
  },
  {
    name: "init container waiting with a reason",
    pod: pod(
      {
        phase: "Pending",
        initContainerStatuses: [container({ waiting: { reason: "ImagePullBackOff" } }, { name: "fetch" })],
      },
      withInit,
    ),
    ready: "0/1",
    status: "Init:ImagePullBackOff",
  },
  {
    name: "pod initializing",
    pod: pod(
      {
        phase: "Pending",
        initContainerStatuses: [
          container({ terminated: { exitCode: 0, reason: "Completed" } }, { name: "fetch" }),
        ],
        containerStatuses: [container({ waiting: { reason: "PodInitializing" } })],
      },
      withInit,
    ),
    ready: "0/1",
    status: "PodInitializing",
  },
  {
    name: "a native sidecar counts as a container and as ready once started",
    pod: pod(
      {
        phase: "Running",
        initContainerStatuses: [container({ running: {} }, { name: "postgres", started: true, ready: true })],
        containerStatuses: [container({ running: {} }, { ready: true })],
        conditions: [{ type: "Initialized", status: "True" }],
      },
      { initContainers: [{ name: "postgres", restartPolicy: "Always" }], containers: [{ name: "c" }] },
    ),
    ready: "2/2",
    status: "Running",
  },
  {
    name: "one container done while another still runs: Running when the pod is ready",
    pod: pod(
      {
        phase: "Running",
        conditions: [{ type: "Ready", status: "True" }],
        containerStatuses: [
          container({ terminated: { exitCode: 0, reason: "Completed" } }, { name: "a" }),
          container({ running: {} }, { name: "b", ready: true }),
        ],
      },
      { containers: [{ name: "a" }, { name: "b" }] },
    ),
    ready: "1/2",
    status: "Running",
  },
  {
    name: "…and NotReady when it is not",
    pod: pod(
      {
        phase: "Running",
        containerStatuses: [
          container({ terminated: { exitCode: 0, reason: "Completed" } }, { name: "a" }),
          container({ running: {} }, { name: "b", ready: true }),
        ],
      },
      { containers: [{ name: "a" }, { name: "b" }] },
    ),
    ready: "1/2",
    status: "NotReady",
  },
  {
    name: "deleting a running pod shows Terminating",
    pod: pod(
      { phase: "Running", containerStatuses: [container({ running: {} }, { ready: true })] },
      undefined,
      { deletionTimestamp: ago(1) },
    ),
    ready: "1/1",
    status: "Terminating",
  },
  {
    name: "deleting a finished pod keeps its status",
    pod: pod(
      {
        phase: "Succeeded",
        containerStatuses: [container({ terminated: { exitCode: 0, reason: "Completed" } })],
      },
      undefined,
      {
        deletionTimestamp: ago(1),
      },
    ),
    ready: "0/1",
    status: "Completed",
  },
  {
    name: "evicted pods show the pod's reason",
    pod: pod({ phase: "Failed", reason: "Evicted" }),
    ready: "0/1",
    status: "Evicted",
  },
  {
    name: "scheduling gated",
    pod: pod({
      phase: "Pending",
      conditions: [{ type: "PodScheduled", status: "False", reason: "SchedulingGated" }],
    }),
    ready: "0/1",
    status: "SchedulingGated",
  },
  {
    name: "restarts show when the last one happened",
    pod: pod({
      phase: "Running",
      containerStatuses: [
        container(
          { running: {} },
          { ready: true, restartCount: 2, lastState: { terminated: { exitCode: 1, finishedAt: ago(125) } } },
        ),
      ],
    }),
    ready: "1/1",
    status: "Running",
    restarts: "2 (2m5s ago)",
  },
];

describe("builtinTable", () => {
  for (const c of podCases) {
    test(`Pod: ${c.name}`, () => {
      const table = builtinTable("Pod", [c.pod], { now });
      const [name, ready, status, restarts, age] = table.rows[0]!.cells;
      assert.deepEqual(
        [name, ready, status, restarts, age],
        ["p", c.ready, c.status, c.restarts ?? "0", "10m"],
      );
    });
  }

  test("Pod columns, wide cells and row conditions", () => {
    const p = {
      ...pod({
        phase: "Succeeded",
        podIPs: [{ ip: "10.0.0.5" }],
        conditions: [{ type: "kiln.dev/x", status: "True" }],
      }),
    };
    (p.spec as Record<string, unknown>).nodeName = "node-1";
    (p.spec as Record<string, unknown>).readinessGates = [
      { conditionType: "kiln.dev/x" },
      { conditionType: "other" },
    ];
    const table = builtinTable("Pod", [p], { now });
    assert.deepEqual(
      table.columnDefinitions?.map((c) => [c.name, c.priority]),
      [
        ["Name", 0],
        ["Ready", 0],
        ["Status", 0],
        ["Restarts", 0],
        ["Age", 0],
        ["IP", 1],
        ["Node", 1],
        ["Nominated Node", 1],
        ["Readiness Gates", 1],
      ],
    );
    assert.deepEqual(table.rows[0]?.cells.slice(5), ["10.0.0.5", "node-1", "<none>", "1/2"]);
    assert.deepEqual(table.rows[0]?.conditions, [
      {
        type: "Completed",
        status: "True",
        reason: "Succeeded",
        message: "The pod has completed successfully.",
      },
    ]);
  });

  const meta = (name: string) => ({ name, creationTimestamp: ago(7200) });
  const kinds: { kind: string; obj: object; columns: string[]; cells: unknown[] }[] = [
    {
      kind: "Namespace",
      obj: { metadata: meta("kiln"), status: { phase: "Active" } },
      columns: ["Name", "Status", "Age"],
      cells: ["kiln", "Active", "120m"],
    },
    {
      kind: "Secret",
      obj: { metadata: meta("s"), type: "Opaque", data: { a: "", b: "" } },
      columns: ["Name", "Type", "Data", "Age"],
      cells: ["s", "Opaque", 2, "120m"],
    },
    {
      kind: "ConfigMap",
      obj: { metadata: meta("kube-root-ca.crt"), data: { "ca.crt": "x" } },
      columns: ["Name", "Data", "Age"],
      cells: ["kube-root-ca.crt", 1, "120m"],
    },
    {
      kind: "ServiceAccount",
      obj: { metadata: meta("default") },
      columns: ["Name", "Secrets", "Age"],
      cells: ["default", 0, "120m"],
    },
    {
      kind: "Lease",
      obj: { metadata: meta("kiln"), spec: { holderIdentity: "pod-a" } },
      columns: ["Name", "Holder", "Age"],
      cells: ["kiln", "pod-a", "120m"],
    },
    {
      kind: "CustomResourceDefinition",
      obj: { metadata: { name: "builds.kiln.dev", creationTimestamp: "2026-11-22T00:07:21Z" } },
      columns: ["Name", "Created At"],
      cells: ["builds.kiln.dev", "2026-11-22T00:07:21Z"],
    },
    { kind: "Widget", obj: { metadata: meta("w") }, columns: ["Name", "Age"], cells: ["w", "120m"] },
    {
      kind: "Event",
      obj: {
        metadata: meta("b1.123"),
        type: "Warning",
        reason: "Failed",
        message: "step test failed \n",
        involvedObject: { kind: "Build", name: "b1", fieldPath: "spec" },
        source: { component: "kiln-controller" },
        firstTimestamp: ago(600),
        lastTimestamp: ago(30),
        count: 3,
      },
      columns: [
        "Last Seen",
        "Type",
        "Reason",
        "Object",
        "Subobject",
        "Source",
        "Message",
        "First Seen",
        "Count",
        "Name",
      ],
      cells: [
        "30s",
        "Warning",
        "Failed",
        "build/b1",
        "spec",
        "kiln-controller",
        "step test failed",
        "10m",
        3,
        "b1.123",
      ],
    },
    {
      kind: "Event",
      obj: {
        metadata: meta("e2"),
        type: "Normal",
        reason: "Created",
        message: "m",
        involvedObject: { kind: "Pod", name: "p" },
        reportingComponent: "kiln",
        reportingInstance: "i-1",
        eventTime: ago(45),
      },
      columns: [
        "Last Seen",
        "Type",
        "Reason",
        "Object",
        "Subobject",
        "Source",
        "Message",
        "First Seen",
        "Count",
        "Name",
      ],
      cells: ["45s", "Normal", "Created", "pod/p", "", "kiln, i-1", "m", "45s", 1, "e2"],
    },
  ];
  for (const c of kinds) {
    test(`${c.kind} ${c.columns.join(" ")}`, () => {
      const table = builtinTable(c.kind, [c.obj], { now });
      assert.deepEqual(
        table.columnDefinitions?.map((d) => d.name),
        c.columns,
      );
      assert.deepEqual(table.rows[0]?.cells, c.cells);
    });
  }
});

describe("checkPrinterColumns", () => {
  test("Kiln's columns pass", () => {
    for (const file of ["builds.kiln.dev.yaml", "repositories.kiln.dev.yaml"]) {
      assert.deepEqual(checkPrinterColumns(columnsOf(file), "spec.versions[0].additionalPrinterColumns"), []);
    }
  });

  test("kube's messages for bad columns", () => {
    const p = "spec.versions[0].additionalPrinterColumns";
    assert.deepEqual(
      checkPrinterColumns(
        [
          { name: "", type: "text", jsonPath: "spec.x" },
          { name: "A", format: "percent" },
        ],
        p,
      ).map(formatFieldError),
      [
        `${p}[0].name: Required value`,
        `${p}[0].type: Invalid value: "text": must be one of boolean,date,integer,number,string`,
        `${p}[0].jsonPath: Invalid value: "spec.x": must be a simple json path starting with .`,
        `${p}[1].type: Required value: must be one of boolean,date,integer,number,string`,
        `${p}[1].format: Invalid value: "percent": must be one of byte,date,date-time,double,float,int32,int64,password`,
        `${p}[1].JSONPath: Required value`,
      ],
    );
  });
});
