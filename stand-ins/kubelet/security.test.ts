import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { V1Container, V1Pod, V1PodSecurityContext } from "@kubernetes/client-node";
import { DEFAULT_CAPS } from "../../lib/container/capabilities.ts";
import { resolveSecurity, who } from "./security.ts";

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
  test("nothing set: the image's user, the runtime's default capabilities", () => {
    assert.deepEqual(resolveSecurity(...pod({}, {})), {
      runAsUser: undefined,
      runAsGroup: undefined,
      runAsNonRoot: false,
      supplementalGroups: [],
      groupsPolicy: "Merge",
      noNewPrivs: false,
      capabilities: DEFAULT_CAPS,
      readOnlyRootFilesystem: false,
    });
  });

  test("container settings override the pod's; fsGroup then supplemental groups; Strict policy", () => {
    const s = resolveSecurity(
      ...pod(
        {
          runAsUser: 1000,
          runAsGroup: 1000,
          runAsNonRoot: true,
          fsGroup: 2000,
          supplementalGroups: [3000],
          supplementalGroupsPolicy: "Strict",
        },
        {
          securityContext: {
            runAsUser: 65532,
            runAsNonRoot: false,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
          },
        },
      ),
    );
    assert.equal(s.runAsUser, 65532);
    assert.equal(s.runAsGroup, 1000);
    assert.equal(s.runAsNonRoot, false);
    assert.deepEqual(s.supplementalGroups, [2000, 3000]);
    assert.equal(s.groupsPolicy, "Strict");
    assert.equal(s.noNewPrivs, true);
    assert.equal(s.readOnlyRootFilesystem, true);
  });

  test("capabilities: drop ALL and add back; drop one; add ALL; privileged", () => {
    const caps = (sc: V1Container["securityContext"]) =>
      resolveSecurity(...pod({}, { securityContext: sc })).capabilities;
    assert.deepEqual(caps({ capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } }), [
      "net_bind_service",
    ]);
    const noKill = caps({ capabilities: { drop: ["CAP_KILL"] } });
    assert.ok(Array.isArray(noKill) && !noKill.includes("kill") && noKill.includes("chown"));
    assert.equal(caps({ capabilities: { add: ["ALL"] } }), "all");
    assert.equal(caps({ privileged: true, capabilities: { drop: ["ALL"] } }), "all");
    assert.equal(
      resolveSecurity(...pod({}, { securityContext: { privileged: true, allowPrivilegeEscalation: false } }))
        .noNewPrivs,
      false,
    );
  });

  test("the kubelet's name for a container in messages", () => {
    assert.equal(who(...pod({}, {})), '(pod: "p_ns(u)", container: c)');
  });
});
