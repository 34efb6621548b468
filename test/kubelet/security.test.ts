import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { V1Container, V1Pod, V1PodSecurityContext } from "@kubernetes/client-node";
import { DEFAULT_CAPS, resolveSecurity, withPrivileges } from "./security.ts";

function pod(podSc: V1PodSecurityContext, c: Partial<V1Container>): [V1Pod, V1Container] {
  const container = { name: "c", ...c };
  return [
    {
      metadata: { name: "p", namespace: "ns", uid: "u" },
      spec: { securityContext: podSc, containers: [container] },
    },
    container,
  ];
}

describe("resolveSecurity", () => {
  test("image default: root with the runtime's default capabilities", () => {
    const r = resolveSecurity(...pod({}, {}));
    assert.ok(r.ok);
    assert.deepEqual(r.security, {
      uid: 0,
      gid: 0,
      groups: [],
      noNewPrivs: false,
      bounding: ["-all", ...DEFAULT_CAPS.map((c) => `+${c}`)].join(","),
      readOnlyRootFilesystem: false,
    });
  });

  test("container settings override the pod's; fsGroup and supplemental groups", () => {
    const r = resolveSecurity(
      ...pod(
        { runAsUser: 1000, runAsGroup: 1000, fsGroup: 2000, supplementalGroups: [3000] },
        {
          securityContext: {
            runAsUser: 65532,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
          },
        },
      ),
    );
    assert.ok(r.ok);
    assert.deepEqual(r.security, {
      uid: 65532,
      gid: 1000,
      groups: [2000, 3000],
      noNewPrivs: true,
      readOnlyRootFilesystem: true,
    });
  });

  test("capabilities: drop ALL, add some back; drop one", () => {
    const a = resolveSecurity(
      ...pod({}, { securityContext: { capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } } }),
    );
    assert.ok(a.ok);
    assert.equal(a.security.bounding, "-all,+net_bind_service");
    const b = resolveSecurity(...pod({}, { securityContext: { capabilities: { drop: ["CAP_KILL"] } } }));
    assert.ok(b.ok);
    assert.doesNotMatch(b.security.bounding ?? "", /kill/);
    assert.match(b.security.bounding ?? "", /\+chown/);
  });

  test("runAsNonRoot", () => {
    assert.deepEqual(resolveSecurity(...pod({ runAsNonRoot: true }, {})), {
      ok: false,
      reason: "CreateContainerConfigError",
      message: 'container has runAsNonRoot and image will run as root (pod: "p_ns(u)", container: c)',
    });
    const zero = resolveSecurity(...pod({ runAsNonRoot: true, runAsUser: 0 }, {}));
    assert.equal(
      !zero.ok && zero.message,
      `container's runAsUser breaks non-root policy (pod: "p_ns(u)", container: c)`,
    );
    assert.ok(resolveSecurity(...pod({ runAsNonRoot: true }, { securityContext: { runAsUser: 10 } })).ok);
  });

  test("withPrivileges builds the setpriv command", () => {
    assert.deepEqual(
      withPrivileges(["sh", "-c", "id"], {
        uid: 5,
        gid: 6,
        groups: [7],
        noNewPrivs: true,
        readOnlyRootFilesystem: false,
      }),
      ["setpriv", "--reuid=5", "--regid=6", "--groups=7", "--no-new-privs", "--", "sh", "-c", "id"],
    );
    assert.deepEqual(
      withPrivileges(["x"], {
        uid: 0,
        gid: 0,
        groups: [],
        noNewPrivs: false,
        bounding: "-all",
        readOnlyRootFilesystem: false,
      }),
      [
        "setpriv",
        "--reuid=0",
        "--regid=0",
        "--clear-groups",
        "--bounding-set=-all",
        "--inh-caps=-all",
        "--",
        "x",
      ],
    );
  });
});
