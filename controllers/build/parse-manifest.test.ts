import { describe, test } from "node:test";
import { parseManifest } from "./parse-manifest.ts";

describe("parseManifest (the agent's parser, reduced to what the pod needs)", () => {
  test("the image and services: readiness (commands run by sh, the first port by default, timeouts), command and args", (t) => {
    const r = parseManifest(
      [
        "image: node:24",
        "services:",
        "  - {name: postgres, image: postgres:17, env: {POSTGRES_PASSWORD: test}, ports: [5432]}",
        "  - {name: redis, image: redis:7, ready: {command: redis-cli ping}}",
        "  - {name: web, image: nginx, command: [nginx], args: [-g, daemon off;], ports: [80], ready: {port: 8080, timeout: 90s}}",
        "  - {name: quiet, image: busybox, args: [sleep, '1000']}",
        "steps:",
        "  - {name: t, run: npm test}",
        "",
      ].join("\n"),
      ".kiln.yaml",
    );
    t.assert.equal(r.ok, true);
    if (!r.ok) return;
    t.assert.equal(r.pipeline.image, "node:24");
    t.assert.deepEqual(
      r.pipeline.services.map((s) => [s.name, s.image, s.ports, s.ready]),
      [
        ["postgres", "postgres:17", [5432], { port: 5432, timeoutMs: 300_000 }],
        ["redis", "redis:7", undefined, { command: ["sh", "-c", "redis-cli ping"], timeoutMs: 300_000 }],
        ["web", "nginx", [80], { port: 8080, timeoutMs: 90_000 }],
        ["quiet", "busybox", undefined, undefined],
      ],
    );
    t.assert.deepEqual(r.pipeline.services[2]!.command, ["nginx"]);
    t.assert.deepEqual(r.pipeline.services[2]!.args, ["-g", "daemon off;"]);
    t.assert.deepEqual(r.pipeline.services[3]!.args, ["sleep", "1000"]);
    t.assert.equal(r.pipeline.services[3]!.command, undefined);
    t.assert.deepEqual(r.pipeline.services[0]!.env, { POSTGRES_PASSWORD: "test" });
  });

  const errors: Array<[string, string, RegExp]> = [
    ["YAML syntax", "image: [node\n", /^\.kiln\.yaml:\d+:\d+: /],
    [
      "no image",
      "steps: [{name: a, run: x}]\n",
      /^\.kiln\.yaml:1:1: image: is required to build in a cluster/,
    ],
    [
      "bad port, located",
      "image: x\nservices:\n  - name: db\n    image: pg\n    ports: [0]\nsteps: [{name: a, run: x}]\n",
      /^\.kiln\.yaml:5:\d+: services\[0\]\.ports\[0\]/,
    ],
    ["no steps", "image: x\nsteps: []\n", /^\.kiln\.yaml:2:\d+: .*steps/],
  ];
  for (const [name, text, message] of errors) {
    test(`error: ${name}`, (t) => {
      const r = parseManifest(text, ".kiln.yaml");
      t.assert.equal(r.ok, false);
      if (!r.ok) t.assert.match(r.message, message);
    });
  }
});
