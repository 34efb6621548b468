import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parsePipeline } from "./manifest.ts";
import { DEFAULT_READY_TIMEOUT_MS, expandContainer, readyCheck } from "./services.ts";

function services(yaml: string) {
  const r = parsePipeline(`services:\n${yaml}steps: [{name: a, run: x}]\n`, ".kiln.yaml");
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  return r.pipeline.services;
}

describe("readyCheck: when a service is up, in the pod and in kiln run --image", () => {
  const cases: Array<[string, string, ReturnType<typeof readyCheck>]> = [
    [
      "its first port by default",
      "{name: s, image: i, ports: [5432, 5433]}",
      { port: 5432, timeoutMs: DEFAULT_READY_TIMEOUT_MS },
    ],
    [
      "ready.port over ports",
      "{name: s, image: i, ports: [80], ready: {port: 8080}}",
      { port: 8080, timeoutMs: DEFAULT_READY_TIMEOUT_MS },
    ],
    [
      "a command, run by sh, with its timeout",
      "{name: s, image: i, ports: [5432], ready: {command: pg_isready -h localhost, timeout: 90s}}",
      { command: ["sh", "-c", "pg_isready -h localhost"], timeoutMs: 90_000 },
    ],
    ["nothing to check: up once started", "{name: s, image: i}", undefined],
  ];
  for (const [name, yaml, expected] of cases) {
    test(name, () => assert.deepEqual(readyCheck(services(`  - ${yaml}\n`)[0]!), expected));
  }
});

describe("expandContainer: $(VAR) as the kubelet expands it", () => {
  test("env values over the entries before them; command and args over the whole env", () => {
    const out = expandContainer({
      env: [
        ["HOST", "localhost"],
        ["URL", "http://$(HOST):$(PORT)"], // PORT comes later: left as written
        ["PORT", "80"],
      ],
      command: ["sh", "-c", "echo $(URL) $(PORT) $$(PORT) $(NOPE) $HOME"],
      args: ["--port=$(PORT)"],
    });
    assert.deepEqual(out, {
      env: [
        ["HOST", "localhost"],
        ["URL", "http://localhost:$(PORT)"],
        ["PORT", "80"],
      ],
      command: ["sh", "-c", "echo http://localhost:$(PORT) 80 $(PORT) $(NOPE) $HOME"],
      args: ["--port=80"],
    });
  });

  test("no command or args stay unset (the image's own)", () => {
    assert.deepEqual(expandContainer({ env: [] }), { env: [] });
  });
});
