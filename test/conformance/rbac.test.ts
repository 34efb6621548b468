// RBAC of the test API server through real kubectl v1.34 and raw HTTPS, as a ServiceAccount meets it
// on a cluster: denied with kube's messages until a Role and RoleBinding (sent as protobuf by
// `kubectl create role|rolebinding`) grant it, `kubectl auth can-i` agreeing each time; aggregated
// ClusterRoles, escalation refused until `bind`, list/watch/exec authorized by verb, discovery open to
// every authenticated user, impersonation, access reviews, roleRef immutability, owner references.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { request } from "node:https";
import { resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { startTestCluster, type TestCluster } from "../../stand-ins/cluster/start.ts";
import { buildBody, podBody, waitFor } from "./helpers.ts";

const root = resolve(import.meta.dirname, "../..");
const kubectl = resolve(root, ".tools/bin/kubectl");
const NS = "team";
const ROBOT = `system:serviceaccount:${NS}:robot`;

let cluster: TestCluster;
let robot: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(...args: string[]): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(kubectl, ["--request-timeout=10s", ...args], {
      cwd: root,
      env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath, HOME: process.env.HOME ?? "/tmp" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

async function ok(...args: string[]): Promise<string> {
  const r = await run(...args);
  assert.equal(r.code, 0, `kubectl ${args.join(" ")} failed:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** kubectl as the robot ServiceAccount (its own token, not impersonation). */
const asRobot = (...args: string[]) => run(`--token=${robot}`, ...args);

async function http(
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
  const url = new URL(path, cluster.url);
  const text = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((done, fail) => {
    const req = request(
      url,
      {
        method,
        ca: cluster.server.caPem,
        headers: {
          ...(options.token !== "" ? { authorization: `Bearer ${options.token ?? robot}` } : {}),
          ...(text ? { "content-type": "application/json" } : {}),
          ...options.headers,
        },
      },
      (res) => {
        let data = "";
        res.on("data", (d: Buffer) => {
          data += d;
        });
        res.on("end", () => {
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(data) as Record<string, unknown>;
          } catch {}
          done({ status: res.statusCode ?? 0, json, text: data });
        });
      },
    );
    req.on("error", fail);
    req.end(text);
  });
}

const canI = async (...args: string[]) =>
  (await run("auth", "can-i", ...args, `--as=${ROBOT}`)).stdout.trim();

before(async () => {
  cluster = await startTestCluster();
  await ok("create", "namespace", NS);
  await ok("create", "serviceaccount", "robot", "-n", NS);
  await ok("create", "secret", "generic", "s1", "-n", NS, "--from-literal=k=v");
  robot = (await ok("create", "token", "robot", "-n", NS)).trim();
});

after(async () => {
  await cluster?.stop();
});

describe("RBAC", { skip: !existsSync(kubectl) && "kubectl is not installed (npm ci installs it)" }, () => {
  test("a ServiceAccount with no binding is denied; kubectl create role + rolebinding grant it", async () => {
    const denied = await asRobot("get", "secrets", "-n", NS);
    assert.equal(denied.code, 1);
    assert.equal(
      denied.stderr.trim(),
      `Error from server (Forbidden): secrets is forbidden: User "${ROBOT}" cannot list resource "secrets" in API group "" in the namespace "${NS}"`,
    );
    const one = await http("GET", `/api/v1/namespaces/${NS}/secrets/s1`);
    assert.equal(one.status, 403);
    assert.deepEqual(one.json, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: `secrets "s1" is forbidden: User "${ROBOT}" cannot get resource "secrets" in API group "" in the namespace "${NS}"`,
      reason: "Forbidden",
      details: { name: "s1", kind: "secrets" },
      code: 403,
    });
    assert.equal(await canI("get", "secrets", "-n", NS), "no");

    await ok("create", "role", "secret-reader", "--verb=get,list,watch", "--resource=secrets", "-n", NS);
    await ok(
      "create",
      "rolebinding",
      "robot-reads",
      "--role=secret-reader",
      `--serviceaccount=${NS}:robot`,
      "-n",
      NS,
    );
    assert.match(await ok(`--token=${robot}`, "get", "secrets", "-n", NS), /^s1\s+Opaque/m);
    assert.equal((await http("GET", `/api/v1/namespaces/${NS}/secrets/s1`)).status, 200);
    assert.equal(await canI("get", "secrets", "-n", NS), "yes");
    assert.equal(await canI("delete", "secrets", "-n", NS), "no");
    assert.equal(
      await canI("get", "secrets", "-n", "default"),
      "no",
      "a RoleBinding grants in its namespace only",
    );
    const list = await ok("auth", "can-i", "--list", "-n", NS, `--as=${ROBOT}`);
    assert.match(list, /^secrets\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
    assert.match(list, /^selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]$/m);
    assert.doesNotMatch(await ok("auth", "can-i", "--list", "-n", "default", `--as=${ROBOT}`), /^secrets/m);
  });

  test("list and watch are authorized as their own verbs; a get by name does not grant them", async () => {
    await ok("create", "role", "pod-getter", "--verb=get", "--resource=pods", "-n", NS);
    await ok(
      "create",
      "rolebinding",
      "robot-gets-pods",
      "--role=pod-getter",
      `--serviceaccount=${NS}:robot`,
      "-n",
      NS,
    );
    const list = await http("GET", `/api/v1/namespaces/${NS}/pods`);
    assert.equal(list.status, 403);
    assert.match(String(list.json.message), /cannot list resource "pods"/);
    const watch = await http("GET", `/api/v1/namespaces/${NS}/pods?watch=true`);
    assert.equal(watch.status, 403);
    assert.equal(
      watch.json.message,
      `pods is forbidden: User "${ROBOT}" cannot watch resource "pods" in API group "" in the namespace "${NS}"`,
    );
    const kubectlWatch = await asRobot("get", "pods", "-n", NS, "--watch", "--request-timeout=3s");
    assert.match(kubectlWatch.stderr, /cannot list resource "pods"|cannot watch resource "pods"/);
    // resourceNames rules authorize a watch of one object by field selector (kubectl get pod x -w).
    await ok(
      "create",
      "role",
      "one-pod",
      "--verb=watch,list",
      "--resource=pods",
      "--resource-name=p1",
      "-n",
      NS,
    );
    await ok(
      "create",
      "rolebinding",
      "robot-one-pod",
      "--role=one-pod",
      `--serviceaccount=${NS}:robot`,
      "-n",
      NS,
    );
    assert.equal(
      (await http("GET", `/api/v1/namespaces/${NS}/pods?fieldSelector=metadata.name%3Dp2`)).status,
      403,
    );
    assert.equal(
      (await http("GET", `/api/v1/namespaces/${NS}/pods?fieldSelector=metadata.name%3Dp1`)).status,
      200,
    );
  });

  test("discovery and OpenAPI are open to every authenticated user; other paths are not", async () => {
    for (const path of ["/api", "/api/v1", "/apis", "/apis/kiln.dev/v1alpha1", "/openapi/v2", "/openapi/v3"])
      assert.equal((await http("GET", path)).status, 200, path);
    assert.match(await ok(`--token=${robot}`, "api-resources", "--api-group=kiln.dev"), /^builds\s/m);
    const metrics = await http("GET", "/metrics");
    assert.equal(metrics.status, 403);
    assert.equal(metrics.json.message, `forbidden: User "${ROBOT}" cannot get path "/metrics"`);
    assert.deepEqual(metrics.json.details, {});
    // Without a token only the public paths answer (system:public-info-viewer), the rest is 401.
    assert.equal((await http("GET", "/version", { token: "" })).status, 200);
    assert.equal((await http("GET", "/healthz", { token: "" })).status, 200);
    assert.equal((await http("GET", "/api", { token: "" })).status, 401);
    assert.equal((await http("GET", "/healthz", { token: "wrong" })).status, 401);
  });

  test("an aggregated ClusterRole picks up the rules of every ClusterRole it selects", async () => {
    await ok("create", "clusterrole", "team-reader", "--aggregation-rule=team.example/aggregate=true");
    await ok(
      "create",
      "clusterrolebinding",
      "robot-team-reader",
      "--clusterrole=team-reader",
      `--serviceaccount=${NS}:robot`,
    );
    assert.equal(await canI("get", "configmaps", "-n", NS), "no");
    await ok("create", "clusterrole", "configmap-reader", "--verb=get,list", "--resource=configmaps");
    await ok("label", "clusterrole", "configmap-reader", "team.example/aggregate=true");
    await waitFor("the aggregated rule", async () =>
      (await canI("get", "configmaps", "-n", NS)) === "yes" ? true : undefined,
    );
    const rules = await ok("get", "clusterrole", "team-reader", "-o", "jsonpath={.rules}");
    assert.deepEqual(JSON.parse(rules), [
      { apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list"] },
    ]);
    // kube's own aggregated roles too: a ClusterRole labelled aggregate-to-view extends view, edit and admin.
    await ok("create", "clusterrole", "build-viewer", "--verb=get", "--resource=builds.kiln.dev");
    await ok("label", "clusterrole", "build-viewer", "rbac.authorization.k8s.io/aggregate-to-view=true");
    await waitFor("admin to aggregate through edit and view", async () => {
      const admin = await ok("get", "clusterrole", "admin", "-o", "jsonpath={.rules}");
      return admin.includes('"builds"') ? true : undefined;
    });
    const bootstrap = await ok(
      "get",
      "clusterroles",
      "-l",
      "kubernetes.io/bootstrapping=rbac-defaults",
      "-o",
      "name",
    );
    for (const name of ["admin", "edit", "view", "cluster-admin", "system:discovery", "system:basic-user"])
      assert.match(bootstrap, new RegExp(`^clusterrole.rbac.authorization.k8s.io/${name}$`, "m"));
  });

  test("escalation: a Role or binding granting more than its writer holds is refused, unless bind", async () => {
    await ok(
      "create",
      "role",
      "rbac-writer",
      "--verb=create,get,update,patch",
      "--resource=roles,rolebindings",
      "-n",
      NS,
    );
    await ok(
      "create",
      "rolebinding",
      "robot-writes-rbac",
      "--role=rbac-writer",
      `--serviceaccount=${NS}:robot`,
      "-n",
      NS,
    );
    const role = await asRobot(
      "create",
      "role",
      "secret-deleter",
      "--verb=delete",
      "--resource=secrets",
      "-n",
      NS,
    );
    assert.equal(role.code, 1);
    assert.equal(
      role.stderr.trim(),
      `Error from server (Forbidden): roles.rbac.authorization.k8s.io "secret-deleter" is forbidden: user "${ROBOT}" (groups=["system:serviceaccounts" "system:serviceaccounts:${NS}" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["secrets"], Verbs:["delete"]}`,
    );
    // What it holds it may grant.
    await ok(
      `--token=${robot}`,
      "create",
      "role",
      "secret-lister",
      "--verb=list",
      "--resource=secrets",
      "-n",
      NS,
    );
    const binding = await asRobot(
      "create",
      "rolebinding",
      "robot-edits",
      "--clusterrole=edit",
      `--serviceaccount=${NS}:robot`,
      "-n",
      NS,
    );
    assert.equal(binding.code, 1);
    // Everything edit grants that the robot does not hold, compacted per resource as kube prints it.
    assert.match(
      binding.stderr,
      /rolebindings.rbac.authorization.k8s.io "robot-edits" is forbidden: user ".*" \(groups=.*\) is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\[""\], Resources:\["bindings"\], Verbs:\["get" "list" "watch"\]\}\n/,
    );
    assert.match(
      binding.stderr,
      /^\{APIGroups:\[""\], Resources:\["secrets"\], Verbs:\["create" "delete" "deletecollection" "patch" "update"\]\}$/m,
    );
    // `bind` on that one ClusterRole (resourceNames) lets it bind what it does not hold.
    await ok(
      "create",
      "role",
      "bind-edit",
      "--verb=bind",
      "--resource=clusterroles",
      "--resource-name=edit",
      "-n",
      NS,
    );
    await ok(
      "create",
      "rolebinding",
      "robot-binds-edit",
      "--role=bind-edit",
      `--serviceaccount=${NS}:robot`,
      "-n",
      NS,
    );
    await ok(
      `--token=${robot}`,
      "create",
      "rolebinding",
      "robot-edits",
      "--clusterrole=edit",
      `--serviceaccount=${NS}:robot`,
      "-n",
      NS,
    );
    assert.equal(await canI("delete", "configmaps", "-n", NS), "yes");
    assert.equal(await canI("delete", "roles", "-n", NS), "no", "edit grants no RBAC writes");
    const admin = await asRobot(
      "create",
      "rolebinding",
      "robot-admin",
      "--clusterrole=admin",
      `--serviceaccount=${NS}:robot`,
      "-n",
      NS,
    );
    assert.match(admin.stderr, /is attempting to grant RBAC permissions not currently held/);
  });

  test("a binding's roleRef cannot change; RBAC objects are validated as kube does", async () => {
    const patched = await run(
      "patch",
      "rolebinding",
      "robot-reads",
      "-n",
      NS,
      "--type=merge",
      "-p",
      '{"roleRef":{"name":"pod-getter"}}',
    );
    assert.equal(patched.code, 1);
    assert.match(
      patched.stderr,
      /The RoleBinding "robot-reads" is invalid: roleRef: Invalid value: rbac.RoleRef\{APIGroup:"rbac.authorization.k8s.io", Kind:"Role", Name:"pod-getter"\}: cannot change roleRef/,
    );
    const crb = await http("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
      token: cluster.server.adminToken,
      body: {
        metadata: { name: "no-namespace" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
        subjects: [{ kind: "ServiceAccount", name: "robot" }],
      },
    });
    assert.equal(crb.status, 422);
    assert.equal(
      crb.json.message,
      'ClusterRoleBinding.rbac.authorization.k8s.io "no-namespace" is invalid: subjects[0].namespace: Required value',
    );
  });

  test("exec needs create on pods/exec (and get, as a WebSocket upgrade is a GET)", async () => {
    // Its own account: the robot holds edit (and with it exec) by now.
    await ok("create", "serviceaccount", "sh", "-n", NS);
    const sh = (await ok("create", "token", "sh", "-n", NS)).trim();
    const asSh = (...args: string[]) => run(`--token=${sh}`, ...args);
    await ok(
      "run",
      "shell",
      "-n",
      NS,
      "--image=busybox:1.36",
      "--restart=Never",
      "--command",
      "--",
      "sleep",
      "60",
    );
    await ok("create", "role", "exec-get", "--verb=get", "--resource=pods,pods/exec", "-n", NS);
    await ok(
      "create",
      "rolebinding",
      "sh-exec-get",
      "--role=exec-get",
      `--serviceaccount=${NS}:sh`,
      "-n",
      NS,
    );
    const denied = await asSh("exec", "shell", "-n", NS, "--", "true");
    assert.equal(denied.code, 1);
    assert.match(
      denied.stderr,
      new RegExp(
        `pods "shell" is forbidden: User "system:serviceaccount:${NS}:sh" cannot create resource "pods/exec" in API group "" in the namespace "${NS}"`,
      ),
    );
    await ok("create", "role", "exec-create", "--verb=create", "--resource=pods/exec", "-n", NS);
    await ok(
      "create",
      "rolebinding",
      "sh-exec-create",
      "--role=exec-create",
      `--serviceaccount=${NS}:sh`,
      "-n",
      NS,
    );
    // Authorized now: what answers is the missing container runtime (no kubelet in this cluster).
    const allowed = await asSh("exec", "shell", "-n", NS, "--", "true");
    assert.doesNotMatch(allowed.stderr, /Forbidden|forbidden/);
  });

  test("impersonation is authorized with the impersonate verb; --as a ServiceAccount gets its groups", async () => {
    assert.match(
      await ok("auth", "whoami", `--as=${ROBOT}`),
      /Groups\s+\[system:serviceaccounts system:serviceaccounts:team system:authenticated\]/,
    );
    const r = await asRobot("get", "pods", "-n", NS, "--as=bob");
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr.trim(),
      `Error from server (Forbidden): users "bob" is forbidden: User "${ROBOT}" cannot impersonate resource "users" in API group "" at the cluster scope`,
    );
    const noUser = await http("GET", "/api", { headers: { "impersonate-group": "g" } });
    assert.equal(noUser.status, 500);
    assert.equal(
      noUser.text,
      'Internal Server Error: "/api": requested [{Group  g    }] without impersonating a user\n',
    );
  });

  test("SubjectAccessReview and LocalSubjectAccessReview answer for anyone, with kube's reasons", async () => {
    const sar = await http("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
      token: cluster.server.adminToken,
      body: {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: {
          user: ROBOT,
          groups: ["system:serviceaccounts", "system:authenticated"],
          resourceAttributes: { namespace: NS, verb: "get", resource: "secrets", name: "s1" },
        },
      },
    });
    assert.equal(sar.status, 201, sar.text);
    assert.deepEqual(sar.json.status, {
      allowed: true,
      // The first binding that allows it, by name (the robot holds edit by now, bound in "escalation").
      reason: `RBAC: allowed by RoleBinding "robot-edits/${NS}" of ClusterRole "edit" to ServiceAccount "robot/${NS}"`,
    });
    const local = await http(
      "POST",
      `/apis/authorization.k8s.io/v1/namespaces/${NS}/localsubjectaccessreviews`,
      {
        token: cluster.server.adminToken,
        body: {
          spec: { user: "alice", resourceAttributes: { namespace: NS, verb: "delete", resource: "secrets" } },
        },
      },
    );
    assert.equal(local.status, 201, local.text);
    assert.deepEqual(local.json.status, { allowed: false });
    // Creating a SubjectAccessReview is itself authorized: the robot may only ask about itself.
    const robotSar = await http("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
      body: { spec: { user: "alice", nonResourceAttributes: { path: "/api", verb: "get" } } },
    });
    assert.equal(robotSar.status, 403);
    const invalid = await http("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
      token: cluster.server.adminToken,
      body: { spec: { resourceAttributes: { verb: "get", resource: "pods" } } },
    });
    assert.equal(invalid.status, 422);
    assert.equal(
      invalid.json.message,
      'SubjectAccessReview.authorization.k8s.io "" is invalid: spec.user: Invalid value: "": at least one of user or group must be specified',
    );
    const self = await http("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
      body: { spec: { nonResourceAttributes: { path: "/apis", verb: "get" } } },
    });
    assert.deepEqual(self.json.status, {
      allowed: true,
      reason:
        'RBAC: allowed by ClusterRoleBinding "system:discovery" of ClusterRole "system:discovery" to Group "system:authenticated"',
    });
  });

  test("blockOwnerDeletion needs update on the owner's finalizers (OwnerReferencesPermissionEnforcement)", async () => {
    const build = await http("POST", `/apis/kiln.dev/v1alpha1/namespaces/${NS}/builds`, {
      token: cluster.server.adminToken,
      body: buildBody("b1"),
    });
    assert.equal(build.status, 201, build.text);
    const uid = (build.json.metadata as { uid: string }).uid;
    await ok("create", "role", "pod-creator", "--verb=create", "--resource=pods", "-n", NS);
    await ok(
      "create",
      "rolebinding",
      "robot-creates-pods",
      "--role=pod-creator",
      `--serviceaccount=${NS}:robot`,
      "-n",
      NS,
    );
    const owned = (blockOwnerDeletion: boolean) =>
      podBody("owned", {
        ownerReferences: [
          {
            apiVersion: "kiln.dev/v1alpha1",
            kind: "Build",
            name: "b1",
            uid,
            controller: true,
            blockOwnerDeletion,
          },
        ],
      });
    const refused = await http("POST", `/api/v1/namespaces/${NS}/pods?dryRun=All`, { body: owned(true) });
    assert.equal(refused.status, 403);
    assert.equal(
      refused.json.message,
      `pods "owned" is forbidden: cannot set blockOwnerDeletion if an ownerReference refers to a resource you can't set finalizers on: , <nil>`,
    );
    assert.equal(
      (await http("POST", `/api/v1/namespaces/${NS}/pods?dryRun=All`, { body: owned(false) })).status,
      201,
    );
    await ok(
      "create",
      "role",
      "build-finalizers",
      "--verb=update",
      "--resource=builds.kiln.dev/finalizers",
      "-n",
      NS,
    );
    await ok(
      "create",
      "rolebinding",
      "robot-build-finalizers",
      "--role=build-finalizers",
      `--serviceaccount=${NS}:robot`,
      "-n",
      NS,
    );
    const allowed = await http("POST", `/api/v1/namespaces/${NS}/pods?dryRun=All`, { body: owned(true) });
    assert.equal(allowed.status, 201, allowed.text);
  });
});
