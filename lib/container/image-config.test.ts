// The image config as kubelet + containerd + runc apply it, case by case.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  DEFAULT_PATH,
  type ImageConfig,
  type ImageFiles,
  processArgs,
  processEnv,
  resolveUser,
  type UserSecurity,
  verifyRunAsNonRoot,
  withHome,
  workingDir,
} from "./image-config.ts";

describe("processArgs: command replaces Entrypoint, args replace Cmd", () => {
  const image: ImageConfig = { Entrypoint: ["/entry", "-e"], Cmd: ["cmd", "-c"] };
  const cases: [string, string[], string[], ImageConfig, string[] | string][] = [
    ["neither: Entrypoint + Cmd", [], [], image, ["/entry", "-e", "cmd", "-c"]],
    ["command only: Cmd ignored", ["sh"], [], image, ["sh"]],
    ["args only: Entrypoint + args", [], ["x", "y"], image, ["/entry", "-e", "x", "y"]],
    ["both: the image ignored", ["sh"], ["-c", "true"], image, ["sh", "-c", "true"]],
    ["no Entrypoint: Cmd alone", [], [], { Cmd: ["cmd"] }, ["cmd"]],
    ["no Entrypoint, args: args alone", [], ["a"], { Cmd: ["cmd"] }, ["a"]],
    ['Entrypoint [""] means none', [], [], { Entrypoint: [""], Cmd: ["cmd"] }, ["cmd"]],
    ["Entrypoint only", [], [], { Entrypoint: ["kiln"] }, ["kiln"]],
    ["null fields (podman's JSON)", [], [], { Entrypoint: null, Cmd: null }, "no command specified"],
    ["nothing at all", [], [], {}, "no command specified"],
  ];
  for (const [name, command, args, img, want] of cases) {
    test(name, () => {
      const got = processArgs(command, args, img);
      if (typeof want === "string") assert.deepEqual(got, { ok: false, message: want });
      else assert.deepEqual(got, { ok: true, value: want });
    });
  }
});

describe("environment and working directory", () => {
  test("runtime PATH, HOSTNAME, then the image's Env, then the container's", () => {
    const env = processEnv(
      { Env: ["PATH=/opt/bin:/usr/bin", "LANG=C.UTF-8", "MODE=image", "BROKEN"] },
      [
        ["MODE", "container"],
        ["EXTRA", "1"],
      ],
      "pod-a",
    );
    assert.deepEqual(
      [...env],
      [
        ["PATH", "/opt/bin:/usr/bin"],
        ["HOSTNAME", "pod-a"],
        ["LANG", "C.UTF-8"],
        ["MODE", "container"],
        ["EXTRA", "1"],
      ],
    );
    assert.equal(processEnv({}, [], "h").get("PATH"), DEFAULT_PATH);
    assert.equal(processEnv({ Env: ["HOSTNAME=img"] }, [], "h").get("HOSTNAME"), "img");
  });

  test("HOME: the env's own, else the user's passwd entry, else /", () => {
    const files: ImageFiles = {
      passwd: "root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n",
    };
    const home = (env: [string, string][], uid: number, f: ImageFiles) =>
      withHome(new Map(env), uid, f).get("HOME");
    assert.equal(home([], 0, files), "/root");
    assert.equal(home([], 1000, files), "/home/node");
    assert.equal(home([], 4242, files), "/");
    assert.equal(home([], 0, {}), "/");
    assert.equal(home([["HOME", "/work"]], 1000, files), "/work");
    assert.equal(home([["HOME", ""]], 1000, files), "/home/node");
  });

  test("working directory: the container's, else the image's, else /", () => {
    assert.equal(workingDir("/workspace", { WorkingDir: "/opt/kiln" }), "/workspace");
    assert.equal(workingDir(undefined, { WorkingDir: "/opt/kiln" }), "/opt/kiln");
    assert.equal(workingDir("", {}), "/");
  });
});

const sec = (s: Partial<UserSecurity> = {}): UserSecurity => ({
  runAsNonRoot: false,
  supplementalGroups: [],
  groupsPolicy: "Merge",
  ...s,
});

describe("resolveUser: securityContext over the image's User, through its passwd and group", () => {
  const files: ImageFiles = {
    passwd: [
      "root:x:0:0:root:/root:/bin/sh",
      "app:x:1000:1000:App:/home/app:/bin/sh",
      "worker:x:2000:3000::/srv:/bin/sh",
      "",
    ].join("\n"),
    group: [
      "root:x:0:",
      "app:x:1000:",
      "docker:x:999:app,worker",
      "staff:x:50:app",
      "worker:x:3000:worker",
      "",
    ].join("\n"),
  };
  const cases: [string, UserSecurity, ImageConfig, ImageFiles, [number, number, number[]] | string][] = [
    ["no user anywhere: root, passwd gid", sec(), {}, files, [0, 0, [0]]],
    [
      "image uid: its passwd gid and memberships",
      sec(),
      { User: "1000" },
      files,
      [1000, 1000, [50, 999, 1000]],
    ],
    [
      "image uid:gid: the kubelet drops the group",
      sec(),
      { User: "2000:42" },
      files,
      [2000, 3000, [999, 3000]],
    ],
    ["image uid without an entry: gid 0", sec(), { User: "10001:10001" }, files, [10001, 0, [0]]],
    ["image uid, no /etc/passwd: gid 0", sec(), { User: "10001" }, {}, [10001, 0, [0]]],
    ["image user name", sec(), { User: "worker" }, files, [2000, 3000, [999, 3000]]],
    [
      "image user name:group: passwd's group",
      sec(),
      { User: "app:staff" },
      files,
      [1000, 1000, [50, 999, 1000]],
    ],
    ["image user name unknown", sec(), { User: "ghost" }, files, "no users found"],
    [
      "image user name, no /etc/passwd",
      sec(),
      { User: "app" },
      {},
      "open etc/passwd: no such file or directory",
    ],
    [
      "runAsUser wins over the image",
      sec({ runAsUser: 1000 }),
      { User: "worker" },
      files,
      [1000, 1000, [50, 999, 1000]],
    ],
    ["runAsUser + runAsGroup", sec({ runAsUser: 1000, runAsGroup: 7 }), {}, files, [1000, 7, [7, 50, 999]]],
    [
      "runAsGroup with the image's name",
      sec({ runAsGroup: 7 }),
      { User: "worker" },
      files,
      [2000, 7, [7, 999]],
    ],
    ["runAsGroup alone: root with that gid", sec({ runAsGroup: 7 }), {}, files, [0, 7, [7]]],
    [
      "fsGroup and supplementalGroups join (Merge)",
      sec({ runAsUser: 1000, supplementalGroups: [65532, 5] }),
      {},
      files,
      [1000, 1000, [5, 50, 999, 1000, 65532]],
    ],
    [
      "Strict: no memberships from /etc/group",
      sec({ runAsUser: 1000, supplementalGroups: [65532], groupsPolicy: "Strict" }),
      {},
      files,
      [1000, 1000, [1000, 65532]],
    ],
    [
      "no /etc/group: no memberships",
      sec({ runAsUser: 1000 }),
      {},
      { passwd: files.passwd },
      [1000, 1000, [1000]],
    ],
    [
      "uid out of runc's range",
      sec(),
      { User: "99999999999" },
      files,
      'invalid USER value "99999999999": uid out of range',
    ],
  ];
  for (const [name, s, image, f, want] of cases) {
    test(name, () => {
      const got = resolveUser(s, image, f);
      if (typeof want === "string") assert.deepEqual(got, { ok: false, message: want });
      else assert.deepEqual(got, { ok: true, value: { uid: want[0], gid: want[1], groups: want[2] } });
    });
  }
});

describe("verifyRunAsNonRoot with the image's user", () => {
  const who = '(pod: "p_ns(u)", container: c)';
  const cases: [string, UserSecurity, ImageConfig, string | undefined][] = [
    ["not asked", sec(), {}, undefined],
    [
      "image without a user runs as root",
      sec({ runAsNonRoot: true }),
      {},
      `container has runAsNonRoot and image will run as root ${who}`,
    ],
    [
      "image user 0",
      sec({ runAsNonRoot: true }),
      { User: "0:0" },
      `container has runAsNonRoot and image will run as root ${who}`,
    ],
    ["image uid", sec({ runAsNonRoot: true }), { User: "10001:10001" }, undefined],
    [
      "image user name",
      sec({ runAsNonRoot: true }),
      { User: "node" },
      `container has runAsNonRoot and image has non-numeric user (node), cannot verify user is non-root ${who}`,
    ],
    ["runAsUser decides", sec({ runAsNonRoot: true, runAsUser: 10 }), { User: "root" }, undefined],
    [
      "runAsUser 0",
      sec({ runAsNonRoot: true, runAsUser: 0 }),
      { User: "10" },
      `container's runAsUser breaks non-root policy ${who}`,
    ],
    [
      "image uid out of range",
      sec({ runAsNonRoot: true }),
      { User: "4294967296" },
      `container has runAsNonRoot and image has an invalid user id (4294967296). (Must be 1-(2147483647)): must be between 0 and 2147483647, inclusive ${who}`,
    ],
  ];
  for (const [name, s, image, want] of cases)
    test(name, () => assert.equal(verifyRunAsNonRoot(s, image, who), want));
});
