// What the bwrap engine runs for each container of the local pod, planned from the image's config as
// the kubelet plans it (the real runs are test/agent/run-image.test.ts).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CAPABILITY_NUMBERS } from "../lib/container/container-init.ts";
import { type BwrapImage, bwrapProcess } from "./engine-bwrap.ts";
import { localPod } from "./local-pod.ts";
import { parsePipeline } from "./manifest.ts";

// An image like the kubelet's test image: an entrypoint, a cmd, env, a working dir, a named user.
const IMAGE: BwrapImage = {
  rootfs: "/var/lib/containers/storage/overlay/abc/merged",
  config: {
    Entrypoint: ["/bin/entry"],
    Cmd: ["echo", "from-cmd"],
    Env: ["PATH=/usr/local/bin:/bin", "IMAGE_VAR=from-image"],
    WorkingDir: "/home/app",
    User: "app",
  },
  files: {
    passwd: "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:App:/home/app:/bin/sh\n",
    group: "root:x:0:\napp:x:1000:\nstaff:x:50:app\n",
  },
};

function pod(manifest: string) {
  const r = parsePipeline(manifest, ".kiln.yaml");
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  return localPod(
    { ...r.pipeline, image: r.pipeline.image! },
    { workspace: "/src/app", kilnDir: "/tmp/run/kiln" },
  );
}

const run = (name: string) => ({
  hostname: "kiln-0a1b2c3d",
  containerDir: `/tmp/run/${name}`,
  hostsFile: "/tmp/run/etc-hosts",
  resolvFile: "/tmp/run/etc-resolv.conf",
  id: `kiln-0a1b2c3d-${name}`,
});

/** The plan, its env as an object (readable in a snapshot). */
function plan(manifest: string, index: number) {
  const p = pod(manifest);
  const c = [p.build, ...p.services][index]!;
  const r = bwrapProcess(c, IMAGE, run(c.name));
  assert.ok(r.ok, !r.ok ? r.message : "");
  return { ok: true, spec: { ...r.spec, env: Object.fromEntries(r.spec.env) } };
}

const MANIFEST = `image: app
services:
  - {name: web, image: app, args: [httpd, -f, -p, "8080"], env: {PORT: "8080"}, ports: [8080]}
  - {name: root, image: app, user: 0, command: [sh, -c, "echo $(PORT)"], env: {PORT: "1"}}
steps: [{name: a, run: x}]
`;

describe("bwrapProcess", () => {
  test("the build container: the runner as the image's user, the workspace and the Kiln dir, the pod's etc files", (t) => {
    t.assert.snapshot(plan(MANIFEST, 0));
  });

  test("services: args after the image's entrypoint; a command replaces it (and its cmd)", (t) => {
    const web = plan(MANIFEST, 1);
    const root = plan(MANIFEST, 2);
    assert.deepEqual(web.spec.command, ["/bin/entry", "httpd", "-f", "-p", "8080"]);
    assert.deepEqual(root.spec.command, ["sh", "-c", "echo 1"]);
    t.assert.snapshot({ web, root });
  });

  test("the image's user and groups; root by name keeps the default capabilities minus NET_RAW; non-root none", () => {
    const build = plan(MANIFEST, 0);
    const root = plan(MANIFEST, 2);
    const asUser = plan(`image: app\nuser: "1234:99"\nsteps: [{name: a, run: x}]\n`, 0);
    assert.deepEqual(build.spec.identity, {
      uid: 1000,
      gid: 1000,
      groups: [50, 1000],
      // containerd's defaults without NET_RAW, which the build pod drops.
      capabilities: [
        ...["chown", "dac_override", "fsetid", "fowner", "mknod", "setgid", "setuid", "setfcap"],
        ...["setpcap", "net_bind_service", "sys_chroot", "kill", "audit_write"],
      ].map((name) => CAPABILITY_NUMBERS[name]),
    });
    assert.ok(!(build.spec.identity!.capabilities as number[]).includes(CAPABILITY_NUMBERS.net_raw!));
    assert.ok((build.spec.identity!.capabilities as number[]).includes(CAPABILITY_NUMBERS.chown!));
    assert.deepEqual(root.spec.identity, { ...build.spec.identity, uid: 0, gid: 0, groups: [0] });
    assert.deepEqual(asUser.spec.identity, { uid: 1234, gid: 99, groups: [99], capabilities: [] });
    assert.equal(asUser.spec.env.HOME, "/", "no passwd entry: HOME is /, as runc makes it");
    assert.equal(build.spec.env.HOME, "/home/app");
  });

  test("an image without entrypoint or cmd cannot run a service that names no command", () => {
    const p = pod(`image: app\nservices: [{name: s, image: bare}]\nsteps: [{name: a, run: x}]\n`);
    const r = bwrapProcess(p.services[0]!, { ...IMAGE, config: {} }, run("service-s"));
    assert.deepEqual(r, {
      ok: false,
      message: "service-s: no command specified (the image has no entrypoint or cmd)",
    });
  });

  test("a user the image does not know by name is refused as containerd refuses it", () => {
    const p = pod(`image: app\nsteps: [{name: a, run: x}]\n`);
    const r = bwrapProcess(p.build, { ...IMAGE, config: { User: "nobody-here" } }, run("build"));
    assert.deepEqual(r, { ok: false, message: "build: no users found" });
  });
});
