// Every Pod Security check, pass and fail, at the versions where it changed: the reason and detail texts
// are kube's (k8s.io/pod-security-admission/policy, v1.34).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Check } from "./check.ts";
import { DEFAULT_CHECKS } from "./evaluator.ts";
import type { Container, PodMetadata, PodSpec } from "./pod-spec.ts";

interface Case {
  name: string;
  /** v1.<minor>; default 34 (what latest evaluates). */
  version?: number;
  spec: PodSpec;
  metadata?: PodMetadata;
  /** [reason, detail] when refused; "allowed"; or "not applicable" when the check has no revision yet. */
  expect: [string, string] | "allowed" | "not applicable";
}

function check(id: string): Check {
  const found = DEFAULT_CHECKS.find((c) => c.id === id);
  assert.ok(found, `no check ${id}`);
  return found;
}

function run(id: string, c: Case): [string, string] | "allowed" | "not applicable" {
  const minor = c.version ?? 34;
  const revision = check(id)
    .versions.filter((v) => v.minimumVersion <= minor)
    .at(-1);
  if (!revision) return "not applicable";
  const result = revision.checkPod(c.metadata ?? {}, c.spec);
  return result.allowed ? "allowed" : [result.reason!, result.detail!];
}

const container = (name: string, extra: Partial<Container> = {}): Container => ({
  name,
  image: "i",
  ...extra,
});
const sc = (name: string, securityContext: Container["securityContext"]) =>
  container(name, { securityContext });

const table: Record<string, Case[]> = {
  windowsHostProcess: [
    { name: "unset", spec: { containers: [container("a")] }, expect: "allowed" },
    {
      name: "pod and containers",
      spec: {
        securityContext: { windowsOptions: { hostProcess: true } },
        containers: [sc("a", { windowsOptions: { hostProcess: true } })],
        initContainers: [sc("i", { windowsOptions: { hostProcess: true } })],
      },
      expect: [
        "hostProcess",
        'pod and containers "i", "a" must not set securityContext.windowsOptions.hostProcess=true',
      ],
    },
    {
      name: "false is fine",
      spec: { containers: [sc("a", { windowsOptions: { hostProcess: false } })] },
      expect: "allowed",
    },
  ],
  hostNamespaces: [
    { name: "none", spec: { hostNetwork: false }, expect: "allowed" },
    {
      name: "all three",
      spec: { hostIPC: true, hostNetwork: true, hostPID: true },
      expect: ["host namespaces", "hostNetwork=true, hostPID=true, hostIPC=true"],
    },
  ],
  hostPathVolumes: [
    { name: "emptyDir", spec: { volumes: [{ name: "v", emptyDir: {} }] }, expect: "allowed" },
    {
      name: "two hostPaths",
      spec: {
        volumes: [
          { name: "a", hostPath: { path: "/" } },
          { name: "b", emptyDir: {} },
          { name: "c", hostPath: { path: "/x" } },
        ],
      },
      expect: ["hostPath volumes", 'volumes "a", "c"'],
    },
  ],
  hostPorts: [
    {
      name: "container ports only",
      spec: { containers: [container("a", { ports: [{}] })] },
      expect: "allowed",
    },
    {
      name: "ports sorted as text",
      spec: {
        containers: [container("a", { ports: [{ hostPort: 9000 }, { hostPort: 10 }] })],
        initContainers: [container("b", { ports: [{ hostPort: 80 }] })],
      },
      expect: ["hostPort", 'containers "b", "a" use hostPorts 10, 80, 9000'],
    },
    {
      name: "one port",
      spec: { containers: [container("a", { ports: [{ hostPort: 8080 }] })] },
      expect: ["hostPort", 'container "a" uses hostPort 8080'],
    },
  ],
  hostProbesAndHostLifecycle: [
    {
      name: "not before v1.34",
      version: 33,
      spec: { containers: [container("a", { livenessProbe: { httpGet: { host: "x" } } })] },
      expect: "not applicable",
    },
    {
      name: "probes without host",
      spec: { containers: [container("a", { readinessProbe: { tcpSocket: {} } })] },
      expect: "allowed",
    },
    {
      name: "probe and lifecycle hosts",
      spec: {
        containers: [
          container("b", {
            livenessProbe: { httpGet: { host: "z.example" } },
            lifecycle: { preStop: { tcpSocket: { host: "a.example" } } },
          }),
          container("a", { startupProbe: { tcpSocket: { host: "z.example" } } }),
        ],
      },
      expect: [
        "probe or lifecycle host",
        'containers "a", "b" use probe or lifecycle hosts "a.example", "z.example"',
      ],
    },
  ],
  privileged: [
    { name: "false", spec: { containers: [sc("a", { privileged: false })] }, expect: "allowed" },
    {
      name: "ephemeral container too",
      spec: {
        containers: [sc("a", { privileged: true })],
        ephemeralContainers: [sc("e", { privileged: true })],
      },
      expect: ["privileged", 'containers "a", "e" must not set securityContext.privileged=true'],
    },
  ],
  capabilities_baseline: [
    {
      name: "default set",
      spec: { containers: [sc("a", { capabilities: { add: ["CHOWN", "NET_BIND_SERVICE", "SYS_CHROOT"] } })] },
      expect: "allowed",
    },
    {
      name: "beyond the default set",
      spec: {
        containers: [
          sc("a", { capabilities: { add: ["SYS_ADMIN", "NET_RAW", "CHOWN"] } }),
          sc("b", { capabilities: { add: ["NET_RAW"] } }),
        ],
      },
      expect: [
        "non-default capabilities",
        'containers "a", "b" must not include "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add',
      ],
    },
  ],
  appArmorProfile: [
    {
      name: "runtime default and localhost",
      metadata: { annotations: { "container.apparmor.security.beta.kubernetes.io/a": "localhost/x" } },
      spec: {
        securityContext: { appArmorProfile: { type: "RuntimeDefault" } },
        containers: [sc("a", { appArmorProfile: { type: "Localhost" } })],
      },
      expect: "allowed",
    },
    {
      name: "unconfined pod",
      spec: { securityContext: { appArmorProfile: { type: "Unconfined" } } },
      expect: ["forbidden AppArmor profile", 'pod must not set AppArmor profile type to "Unconfined"'],
    },
    {
      name: "containers and annotations",
      metadata: {
        annotations: {
          "container.apparmor.security.beta.kubernetes.io/b": "unconfined",
          "container.apparmor.security.beta.kubernetes.io/a": "runtime/default",
        },
      },
      spec: { containers: [sc("a", { appArmorProfile: { type: "Unconfined" } })] },
      expect: [
        "forbidden AppArmor profiles",
        'container "a" and annotation must not set AppArmor profile type to "Unconfined", "container.apparmor.security.beta.kubernetes.io/b="unconfined""',
      ],
    },
  ],
  seLinuxOptions: [
    {
      name: "allowed types",
      spec: { securityContext: { seLinuxOptions: { type: "container_t", level: "s0:c1" } } },
      expect: "allowed",
    },
    {
      name: "container_engine_t before v1.31",
      version: 30,
      spec: { containers: [sc("a", { seLinuxOptions: { type: "container_engine_t" } })] },
      expect: [
        "seLinuxOptions",
        'container "a" set forbidden securityContext.seLinuxOptions: type "container_engine_t"',
      ],
    },
    {
      name: "container_engine_t from v1.31",
      version: 31,
      spec: { containers: [sc("a", { seLinuxOptions: { type: "container_engine_t" } })] },
      expect: "allowed",
    },
    {
      name: "type, user and role",
      spec: {
        securityContext: { seLinuxOptions: { user: "u" } },
        containers: [
          sc("a", { seLinuxOptions: { type: "spc_t", role: "r" } }),
          sc("b", { seLinuxOptions: { type: "x" } }),
        ],
      },
      expect: [
        "seLinuxOptions",
        'pod and containers "a", "b" set forbidden securityContext.seLinuxOptions: types "spc_t", "x"; user may not be set; role may not be set',
      ],
    },
  ],
  procMount: [
    { name: "Default", spec: { containers: [sc("a", { procMount: "Default" })] }, expect: "allowed" },
    {
      name: "Unmasked",
      spec: { containers: [sc("a", { procMount: "Unmasked" })] },
      expect: ["procMount", 'container "a" must not set securityContext.procMount to "Unmasked"'],
    },
    {
      name: "user namespaces are not relaxed (the gate is alpha in 1.34)",
      spec: { hostUsers: false, containers: [sc("a", { procMount: "Unmasked" })] },
      expect: ["procMount", 'container "a" must not set securityContext.procMount to "Unmasked"'],
    },
  ],
  seccompProfile_baseline: [
    {
      name: "annotations before v1.19",
      version: 18,
      metadata: {
        annotations: {
          "seccomp.security.alpha.kubernetes.io/pod": "unconfined",
          "container.seccomp.security.alpha.kubernetes.io/a": "docker/default",
          "container.seccomp.security.alpha.kubernetes.io/b": "foo",
        },
      },
      spec: { containers: [container("a"), container("b")] },
      expect: [
        "seccompProfile",
        'forbidden annotations container.seccomp.security.alpha.kubernetes.io/b="foo", seccomp.security.alpha.kubernetes.io/pod="unconfined"',
      ],
    },
    {
      name: "fields ignored before v1.19",
      version: 18,
      spec: { securityContext: { seccompProfile: { type: "Unconfined" } } },
      expect: "allowed",
    },
    {
      name: "unset",
      spec: { containers: [container("a")] },
      expect: "allowed",
    },
    {
      name: "unconfined pod and container",
      spec: {
        securityContext: { seccompProfile: { type: "Unconfined" } },
        containers: [
          sc("a", { seccompProfile: { type: "Unconfined" } }),
          sc("b", { seccompProfile: { type: "RuntimeDefault" } }),
        ],
      },
      expect: [
        "seccompProfile",
        'pod and container "a" must not set securityContext.seccompProfile.type to "Unconfined"',
      ],
    },
  ],
  sysctls: [
    {
      name: "safe set",
      spec: {
        securityContext: { sysctls: [{ name: "net.ipv4.tcp_rmem" }, { name: "kernel.shm_rmid_forced" }] },
      },
      expect: "allowed",
    },
    {
      name: "tcp_rmem before v1.32",
      version: 31,
      spec: {
        securityContext: { sysctls: [{ name: "net.ipv4.tcp_rmem" }, { name: "net.ipv4.tcp_fin_timeout" }] },
      },
      expect: ["forbidden sysctls", "net.ipv4.tcp_rmem"],
    },
    {
      name: "keepalive before v1.29",
      version: 28,
      spec: {
        securityContext: {
          sysctls: [{ name: "net.ipv4.tcp_fin_timeout" }, { name: "net.ipv4.ip_local_reserved_ports" }],
        },
      },
      expect: ["forbidden sysctls", "net.ipv4.tcp_fin_timeout"],
    },
    {
      name: "reserved ports before v1.27",
      version: 26,
      spec: { securityContext: { sysctls: [{ name: "net.ipv4.ip_local_reserved_ports" }] } },
      expect: ["forbidden sysctls", "net.ipv4.ip_local_reserved_ports"],
    },
    {
      name: "unsafe ones in order",
      spec: {
        securityContext: { sysctls: [{ name: "kernel.msgmax" }, { name: "a.b" }, { name: "kernel.msgmax" }] },
      },
      expect: ["forbidden sysctls", "kernel.msgmax, a.b, kernel.msgmax"],
    },
  ],
  restrictedVolumes: [
    {
      name: "allowed kinds",
      spec: {
        volumes: [
          { name: "a", configMap: {} },
          { name: "b", projected: {} },
          { name: "c", persistentVolumeClaim: { claimName: "x" } },
          { name: "d", image: { reference: "x" } },
        ],
      },
      expect: "allowed",
    },
    {
      name: "restricted kinds",
      spec: {
        volumes: [
          { name: "a", nfs: {} },
          { name: "b", hostPath: { path: "/" } },
          { name: "c", emptyDir: {} },
          { name: "d" },
        ],
      },
      expect: [
        "restricted volume types",
        'volumes "a", "b", "d" use restricted volume types "hostPath", "nfs", "unknown"',
      ],
    },
    {
      name: "one",
      spec: { volumes: [{ name: "a", gitRepo: {} }] },
      expect: ["restricted volume types", 'volume "a" uses restricted volume type "gitRepo"'],
    },
  ],
  allowPrivilegeEscalation: [
    { name: "not before v1.8", version: 7, spec: { containers: [container("a")] }, expect: "not applicable" },
    {
      name: "false",
      spec: { containers: [sc("a", { allowPrivilegeEscalation: false })] },
      expect: "allowed",
    },
    {
      name: "unset or true",
      spec: { initContainers: [container("i")], containers: [sc("a", { allowPrivilegeEscalation: true })] },
      expect: [
        "allowPrivilegeEscalation != false",
        'containers "i", "a" must set securityContext.allowPrivilegeEscalation=false',
      ],
    },
    {
      name: "windows pod from v1.25",
      spec: { os: { name: "windows" }, containers: [container("a")] },
      expect: "allowed",
    },
    {
      name: "windows pod before v1.25",
      version: 24,
      spec: { os: { name: "windows" }, containers: [container("a")] },
      expect: [
        "allowPrivilegeEscalation != false",
        'container "a" must set securityContext.allowPrivilegeEscalation=false',
      ],
    },
  ],
  runAsNonRoot: [
    {
      name: "pod level",
      spec: { securityContext: { runAsNonRoot: true }, containers: [container("a")] },
      expect: "allowed",
    },
    {
      name: "implicit",
      spec: { containers: [container("a"), sc("b", { runAsNonRoot: true }), container("c")] },
      expect: [
        "runAsNonRoot != true",
        'pod or containers "a", "c" must set securityContext.runAsNonRoot=true',
      ],
    },
    {
      name: "explicit false wins over implicit",
      spec: {
        securityContext: { runAsNonRoot: false },
        containers: [sc("a", { runAsNonRoot: false }), container("b")],
      },
      expect: [
        "runAsNonRoot != true",
        'pod and container "a" must not set securityContext.runAsNonRoot=false',
      ],
    },
    {
      name: "windows pods are not exempt",
      spec: { os: { name: "windows" }, containers: [container("a")] },
      expect: ["runAsNonRoot != true", 'pod or container "a" must set securityContext.runAsNonRoot=true'],
    },
  ],
  runAsUser: [
    {
      name: "not before v1.23",
      version: 22,
      spec: { securityContext: { runAsUser: 0 } },
      expect: "not applicable",
    },
    {
      name: "non-zero",
      spec: { securityContext: { runAsUser: 1000 }, containers: [sc("a", { runAsUser: 1 })] },
      expect: "allowed",
    },
    {
      name: "zero",
      spec: {
        securityContext: { runAsUser: 0 },
        containers: [sc("a", { runAsUser: 0 }), sc("b", { runAsUser: 0 })],
      },
      expect: ["runAsUser=0", 'pod and containers "a", "b" must not set runAsUser=0'],
    },
  ],
  seccompProfile_restricted: [
    {
      name: "not before v1.19",
      version: 18,
      spec: { containers: [container("a")] },
      expect: "not applicable",
    },
    {
      name: "pod level RuntimeDefault",
      spec: { securityContext: { seccompProfile: { type: "RuntimeDefault" } }, containers: [container("a")] },
      expect: "allowed",
    },
    {
      name: "unset",
      spec: { containers: [container("a"), sc("b", { seccompProfile: { type: "Localhost" } })] },
      expect: [
        "seccompProfile",
        'pod or container "a" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"',
      ],
    },
    {
      name: "explicitly bad",
      spec: { securityContext: { seccompProfile: { type: "Unconfined" } }, containers: [container("a")] },
      expect: ["seccompProfile", 'pod must not set securityContext.seccompProfile.type to "Unconfined"'],
    },
    {
      name: "windows from v1.25",
      spec: { os: { name: "windows" }, containers: [container("a")] },
      expect: "allowed",
    },
  ],
  capabilities_restricted: [
    {
      name: "not before v1.22",
      version: 21,
      spec: { containers: [container("a")] },
      expect: "not applicable",
    },
    {
      name: "drop ALL, add NET_BIND_SERVICE",
      spec: { containers: [sc("a", { capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } })] },
      expect: "allowed",
    },
    {
      name: "missing drop and bad adds",
      spec: {
        containers: [
          container("a"),
          sc("b", { capabilities: { drop: ["NET_RAW"], add: ["CHOWN"] } }),
          sc("c", { capabilities: { drop: ["ALL"], add: ["SYS_ADMIN", "CHOWN"] } }),
        ],
      },
      expect: [
        "unrestricted capabilities",
        'containers "a", "b" must set securityContext.capabilities.drop=["ALL"]; containers "b", "c" must not include "CHOWN", "SYS_ADMIN" in securityContext.capabilities.add',
      ],
    },
    {
      name: "windows from v1.25",
      spec: { os: { name: "windows" }, containers: [container("a")] },
      expect: "allowed",
    },
    {
      name: "windows before v1.25",
      version: 24,
      spec: { os: { name: "windows" }, containers: [container("a")] },
      expect: [
        "unrestricted capabilities",
        'container "a" must set securityContext.capabilities.drop=["ALL"]',
      ],
    },
  ],
};

describe("Pod Security checks", () => {
  test("every check has cases", () => {
    assert.deepEqual(Object.keys(table).sort(), DEFAULT_CHECKS.map((c) => c.id).sort());
  });
  for (const [id, cases] of Object.entries(table)) {
    describe(id, () => {
      for (const c of cases) {
        test(`${c.name}${c.version !== undefined ? ` (v1.${c.version})` : ""}`, () => {
          assert.deepEqual(run(id, c), c.expect);
        });
      }
    });
  }
});
