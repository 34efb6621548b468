// The docker and podman command lines of kiln run --image, as snapshots: a diff of how a container is
// started should be readable in review. Neither engine can start a container on the test machines, so
// these (and the bwrap engine's real runs in test/agent/run-image.test.ts) are what guards them.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  containerName,
  engineEnv,
  execArgs,
  parsePort,
  portArgs,
  removeArgs,
  runArgs,
  runningArgs,
  shellHint,
  stopArgs,
} from "./engine-cli.ts";
import { localPod } from "./local-pod.ts";
import { parsePipeline } from "./manifest.ts";

const MANIFEST = `image: node:24
user: 1000
env: {CI_DB: postgres}
services:
  - name: postgres
    image: postgres:17
    env: {POSTGRES_PASSWORD: test, PGPORT: "5433"}
    args: [-c, fsync=off, -p, $(PGPORT)]
    ports: [5433]
    ready: {command: pg_isready -h localhost -p 5433, timeout: 60s}
  - name: redis
    image: redis:7
    user: "999:999"
    command: [redis-server, --save, ""]
    ports: [6379]
  - {name: mail, image: axllent/mailpit, ports: [1025, 8025], ready: {port: 8025}}
steps:
  - {name: test, run: npm test}
`;

function pod() {
  const r = parsePipeline(MANIFEST, ".kiln.yaml");
  assert.ok(r.ok);
  return localPod(
    { ...r.pipeline, image: r.pipeline.image! },
    { workspace: "/home/dev/api", kilnDir: "/tmp/kiln-run-x/kiln" },
  );
}

const RUN = "0a1b2c3d";

describe("docker and podman command lines", () => {
  test("the local pod: the build container, then each service", (t) => {
    t.assert.snapshot(pod());
  });

  test("run: the build container holds the pod's network and publishes its ports on loopback; services join it", (t) => {
    const p = pod();
    t.assert.snapshot([p.build, ...p.services].map((c) => runArgs(RUN, p, c)));
  });

  test("command replaces the entrypoint (and the image's cmd), args replace the cmd", () => {
    const p = pod();
    const [postgres, redis, mail] = p.services.map((c) => runArgs(RUN, p, c));
    // args only: the image's entrypoint with these args ($(PGPORT) expanded as the kubelet does).
    assert.ok(!postgres!.includes("--entrypoint"));
    assert.deepEqual(postgres!.slice(postgres!.indexOf("postgres:17")), [
      "postgres:17",
      "-c",
      "fsync=off",
      "-p",
      "5433",
    ]);
    assert.deepEqual(redis!.slice(redis!.indexOf("--entrypoint")), [
      "--entrypoint",
      "redis-server",
      "redis:7",
      "--save",
      "",
    ]);
    assert.deepEqual(mail!.slice(mail!.indexOf("axllent/mailpit")), ["axllent/mailpit"]);
  });

  test("the same securityContext as the build pod: baseline for the image's user, nothing for a non-root one", () => {
    const p = pod();
    const flags = (args: string[]) =>
      args.filter((_, i) => ["--cap-drop", "--user", "--security-opt"].includes(args[i - 1] ?? ""));
    assert.deepEqual(flags(runArgs(RUN, p, p.build)), ["no-new-privileges", "ALL", "1000"]);
    assert.deepEqual(flags(runArgs(RUN, p, p.services[0]!)), ["no-new-privileges", "NET_RAW"]);
    assert.deepEqual(flags(runArgs(RUN, p, p.services[1]!)), ["no-new-privileges", "ALL", "999:999"]);
  });

  test("exec probes, ports, stopping and removing", (t) => {
    const p = pod();
    const postgres = p.services[0]!;
    const ready = postgres.ready!;
    assert.ok("command" in ready);
    t.assert.snapshot({
      running: runningArgs(RUN, postgres),
      exec: execArgs(RUN, postgres, ready.command),
      port: portArgs(RUN, p, 8025),
      stop: stopArgs(RUN, [...p.services].reverse(), 5000),
      remove: removeArgs(RUN, [p.build, ...p.services]),
      shell: shellHint("podman", RUN, p.build),
    });
  });

  test("secrets reach the build container by name only: their values are in the engine's env, not its argv", () => {
    const r = parsePipeline(MANIFEST, ".kiln.yaml");
    assert.ok(r.ok);
    const p = localPod({ ...r.pipeline, image: "node:24" }, { workspace: "/w", kilnDir: "/k" }, [
      ["NPM_TOKEN", "s3cr3t"],
    ]);
    const args = runArgs(RUN, p, p.build);
    assert.equal(args[args.indexOf("NPM_TOKEN") - 1], "--env");
    assert.ok(!args.some((a) => a.includes("s3cr3t")));
    assert.equal(engineEnv(p.build, { PATH: "/bin" }).NPM_TOKEN, "s3cr3t");
    for (const s of p.services) {
      assert.ok(!runArgs(RUN, p, s).includes("NPM_TOKEN"), "services get none");
      assert.equal(engineEnv(s, {}).NPM_TOKEN, undefined);
    }
  });

  test("names carry the run, so two runs never share a container", () => {
    const p = pod();
    assert.equal(containerName(RUN, p.build), "kiln-0a1b2c3d-build");
    assert.equal(containerName(RUN, p.services[0]!), "kiln-0a1b2c3d-service-postgres");
    assert.equal(stopArgs(RUN, [p.build], 1)[2], "1", "at least one second");
    assert.equal(stopArgs(RUN, [p.build], 2500)[2], "3");
  });

  const ports: Array<[string, ReturnType<typeof parsePort>]> = [
    ["127.0.0.1:49153\n", { host: "127.0.0.1", port: 49153 }],
    ["127.0.0.1:49153\n[::1]:49153\n", { host: "127.0.0.1", port: 49153 }],
    ["[::1]:32768\n", { host: "::1", port: 32768 }],
    ["Error: No public port '5432/tcp' published for kiln-x-build\n", undefined],
    ["", undefined],
  ];
  for (const [output, expected] of ports) {
    test(`parsePort(${JSON.stringify(output)})`, () => assert.deepEqual(parsePort(output), expected));
  }
});
