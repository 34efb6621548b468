// A Build of a local git repository, end to end: test API server → build controller → process kubelet
// running the pod (kiln fetch, the runner, kiln agent) → steps in Build.status → Succeeded or Failed.
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, before, describe, test } from "node:test";
import { ensureTestImage } from "../../stand-ins/kubelet/test-image.ts";
import { type Harness, startHarness } from "./build-harness.ts";

let h: Harness;

before(async () => {
  h = await startHarness({ kubelet: true });
  await h.createRepository("app", { concurrency: 4, cancelSuperseded: false });
  await h.startController();
});
after(() => h.stop());

describe("a build through the process kubelet", { timeout: 90_000 }, () => {
  test("every step runs and is recorded: Succeeded", async () => {
    const sha = await h.repo.commit({
      ".kiln.yaml": [
        "image: node:24",
        "steps:",
        "  - {name: greet, run: echo hello from kiln}",
        "  - {name: check, run: 'test -f package.json && grep -q kiln package.json'}",
        "",
      ].join("\n"),
      "package.json": '{"name": "kiln-e2e"}\n',
    });
    await h.createBuild("e2e-ok", { sha });
    const b = await h.waitPhase("e2e-ok", "Succeeded", 60_000);
    assert.deepEqual(
      b.status?.steps?.map((s) => [s.name, s.phase, s.exitCode]),
      [
        ["greet", "Succeeded", 0],
        ["check", "Succeeded", 0],
      ],
    );
    assert.ok(b.status?.duration);
  });

  test("a failing step: Failed, naming it, later steps not run", async () => {
    const sha = await h.repo.commit({
      ".kiln.yaml":
        "image: node:24\nsteps:\n  - {name: build, run: 'true'}\n  - {name: test, run: 'exit 3'}\n  - {name: deploy, run: 'true'}\n",
    });
    await h.createBuild("e2e-fail", { sha });
    const b = await h.waitPhase("e2e-fail", "Failed", 60_000);
    assert.match(b.status?.message ?? "", /step "test" failed with exit code 3/);
    const steps = Object.fromEntries((b.status?.steps ?? []).map((s) => [s.name, s.phase]));
    assert.equal(steps.build, "Succeeded");
    assert.equal(steps.test, "Failed");
    assert.notEqual(steps.deploy, "Succeeded");
  });

  test("services take command and args ($(VAR) expanded), each up before the first step, on localhost", async () => {
    // A busybox image of local storage (image mode: its entrypoint and user are honoured).
    const image = ensureTestImage();
    const [web, api] = [await freePort(), await freePort()];
    const serve = (port: string) =>
      `httpd -f -p 127.0.0.1:${port} -h /tmp & trap "kill $!; exit 0" TERM; wait`;
    const get = (port: number) =>
      `node -e "fetch('http://127.0.0.1:${port}/').then((r) => r.text()).then((t) => process.stdout.write(t))"`;
    const sha = await h.repo.commit({
      ".kiln.yaml": [
        "image: node:24",
        "services:",
        "  - name: web",
        `    image: ${image}`,
        `    env: {PORT: "${web}", MSG: from-web}`,
        // Each service ends on TERM (httpd as pid 1 would not), so the pod does not wait out its grace period.
        `    command: [sh, -c, 'echo "$(MSG)" > /tmp/index.html && ${serve("$(PORT)")}']`,
        `    ports: [${web}]`,
        "  - name: api",
        `    image: ${image}`,
        `    args: [sh, -c, 'echo from-api > /tmp/index.html && ${serve(String(api))}']`,
        `    ready: {command: 'wget -q -O /dev/null http://127.0.0.1:${api}/', timeout: 30s}`,
        "steps:",
        "  - name: web",
        "    run: |",
        `      test "$(${get(web)})" = from-web`,
        "  - name: api",
        "    run: |",
        `      test "$(${get(api)})" = from-api`,
        "",
      ].join("\n"),
    });
    await h.createBuild("e2e-services", { sha });
    const b = await h.waitPhase("e2e-services", "Succeeded", 60_000).catch(async (e) => {
      const build = await h.getBuild("e2e-services");
      const pod = build?.status?.podName ? await h.getPod(build.status.podName) : undefined;
      console.error(JSON.stringify({ status: build?.status, pod: pod?.status }, null, 1));
      throw e;
    });
    assert.deepEqual(
      b.status?.steps?.map((s) => [s.name, s.phase]),
      [
        ["web", "Succeeded"],
        ["api", "Succeeded"],
      ],
    );
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
