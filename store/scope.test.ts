import { describe, test } from "node:test";
import { tokenClaims } from "../lib/token-claims.ts";
import {
  type AgentIdentity,
  type BuildFacts,
  type BuildScope,
  buildScope,
  identify,
  type Operation,
  type PodFacts,
  permit,
  type Scope,
  type ScopeSettings,
  type TokenReviewStatus,
} from "./scope.ts";

const settings: ScopeSettings = {
  audience: "kiln-store",
  readAudiences: ["https://kubernetes.default.svc"],
  agentServiceAccount: "kiln-build",
};

const agentUser = (extra: Record<string, string[]> = {}) => ({
  username: "system:serviceaccount:team-a:kiln-build",
  uid: "sa-uid",
  groups: ["system:serviceaccounts", "system:serviceaccounts:team-a", "system:authenticated"],
  extra,
});
const bound = {
  "authentication.kubernetes.io/pod-name": ["app-1-pod"],
  "authentication.kubernetes.io/pod-uid": ["pod-uid"],
};

const jwt = (claims: object) =>
  `${Buffer.from('{"alg":"RS256"}').toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.sig`;

describe("tokenClaims", () => {
  test("the aud claim of a JWT as a list, and its expiry; nothing for other tokens", (t) => {
    t.assert.deepEqual(tokenClaims(jwt({ aud: ["kiln-store", "x"], exp: 1700 })), {
      audiences: ["kiln-store", "x"],
      expiresAt: 1_700_000,
    });
    t.assert.deepEqual(tokenClaims(jwt({ aud: "kiln-store" })), { audiences: ["kiln-store"] });
    t.assert.deepEqual(tokenClaims(jwt({ sub: "me" })), {});
    t.assert.equal(tokenClaims("opaque-token"), undefined);
    t.assert.equal(tokenClaims("a.!!!.c"), undefined);
    t.assert.equal(tokenClaims(`a.${Buffer.from("null").toString("base64url")}.c`), undefined);
  });
});

describe("identify", () => {
  const table: Array<[string, TokenReviewStatus, string[] | undefined, object]> = [
    [
      "a build pod's bound token for kiln-store",
      { authenticated: true, user: agentUser(bound), audiences: ["kiln-store"] },
      ["kiln-store"],
      { kind: "agent", namespace: "team-a", pod: { name: "app-1-pod", uid: "pod-uid" } },
    ],
    [
      "not authenticated",
      { authenticated: false, error: "invalid bearer token" },
      undefined,
      { status: 401, message: "the token is not valid (expired, revoked, or not a Kubernetes token)" },
    ],
    [
      "the agent's API token (another audience) is not its store token",
      {
        authenticated: true,
        user: agentUser(bound),
        audiences: ["kiln-store", "https://kubernetes.default.svc"],
      },
      ["https://kubernetes.default.svc"],
      { status: 401, message: "a build pod's token must have the audience kiln-store" },
    ],
    [
      "the agent's account, but not bound to a pod",
      { authenticated: true, user: agentUser(), audiences: ["kiln-store"] },
      ["kiln-store"],
      { status: 403, message: "a build agent's token must be bound to its build pod" },
    ],
    [
      "a person's token for the API server: a reader (an accepted read audience)",
      {
        authenticated: true,
        user: { username: "alice", groups: ["devs", "system:authenticated"] },
        audiences: ["https://kubernetes.default.svc"],
      },
      undefined,
      { kind: "reader", user: { username: "alice", groups: ["devs", "system:authenticated"], extra: {} } },
    ],
    [
      "another ServiceAccount (the controller, for the chat's /log) is a reader",
      {
        authenticated: true,
        user: { username: "system:serviceaccount:kiln:kiln-controller", uid: "u", groups: [] },
        audiences: ["kiln-store"],
      },
      ["kiln-store"],
      {
        kind: "reader",
        user: { username: "system:serviceaccount:kiln:kiln-controller", uid: "u", groups: [], extra: {} },
      },
    ],
    [
      "a reader's token for an audience the store does not accept",
      { authenticated: true, user: { username: "bob" }, audiences: ["kiln-store"] },
      ["something-else"],
      {
        status: 401,
        message: "the token is for none of the audiences kiln-store, https://kubernetes.default.svc",
      },
    ],
  ];
  for (const [name, status, claimed, expected] of table) {
    test(name, (t) => t.assert.deepEqual(identify(status, claimed, settings), expected));
  }
});

describe("buildScope", () => {
  const agent: AgentIdentity = {
    kind: "agent",
    namespace: "team-a",
    pod: { name: "app-1-pod", uid: "pod-uid" },
  };
  const pod = (over: Partial<NonNullable<PodFacts["metadata"]>> = {}, sa = "kiln-build"): PodFacts => ({
    metadata: {
      name: "app-1-pod",
      uid: "pod-uid",
      labels: { "kiln.dev/build": "app-1" },
      ownerReferences: [
        { apiVersion: "kiln.dev/v1alpha1", kind: "Build", name: "app-1", uid: "build-uid", controller: true },
      ],
      ...over,
    },
    spec: { serviceAccountName: sa },
  });
  const build = (spec: Partial<NonNullable<BuildFacts["spec"]>> = {}, uid = "build-uid"): BuildFacts => ({
    metadata: { name: "app-1", uid },
    spec: { repository: "app", revision: { branch: "feature/x" }, trigger: {}, ...spec },
  });
  const table: Array<[string, PodFacts | undefined, BuildFacts | undefined, object]> = [
    [
      "a build pod and its Build",
      pod(),
      build(),
      {
        kind: "build",
        namespace: "team-a",
        build: "app-1",
        repository: "app",
        branch: "feature/x",
        fork: false,
      },
    ],
    [
      "a fork's pull request",
      pod(),
      build({ trigger: { pullRequest: { fork: true } } }),
      {
        kind: "build",
        namespace: "team-a",
        build: "app-1",
        repository: "app",
        branch: "feature/x",
        fork: true,
      },
    ],
    [
      "a tag's build has no branch",
      pod(),
      build({ revision: {} }),
      {
        kind: "build",
        namespace: "team-a",
        build: "app-1",
        repository: "app",
        fork: false,
      },
    ],
    [
      "the pod is gone",
      undefined,
      build(),
      { status: 401, message: "the pod team-a/app-1-pod the token is bound to is gone" },
    ],
    [
      "a new pod of the same name",
      pod({ uid: "other" }),
      build(),
      {
        status: 401,
        message: "the pod team-a/app-1-pod the token is bound to is gone",
      },
    ],
    [
      "a pod of another account",
      pod({}, "default"),
      build(),
      {
        status: 403,
        message: "the pod team-a/app-1-pod does not run as kiln-build",
      },
    ],
    [
      "a pod labelled as a build but owned by none",
      pod({ ownerReferences: [] }),
      build(),
      {
        status: 403,
        message: "the pod team-a/app-1-pod is not a build pod (no Build owns it)",
      },
    ],
    [
      "a label naming another Build than its owner",
      pod({ labels: { "kiln.dev/build": "app-2" } }),
      build(),
      {
        status: 403,
        message: "the pod team-a/app-1-pod is not a build pod (no Build owns it)",
      },
    ],
    [
      "the Build was replaced (another uid)",
      pod(),
      build({}, "new-uid"),
      {
        status: 403,
        message: "the Build team-a/app-1 of the pod team-a/app-1-pod is gone",
      },
    ],
    [
      "the Build is gone",
      pod(),
      undefined,
      {
        status: 403,
        message: "the Build team-a/app-1 of the pod team-a/app-1-pod is gone",
      },
    ],
  ];
  for (const [name, p, b, expected] of table) {
    test(name, (t) => t.assert.deepEqual(buildScope(agent, p, b, settings), expected));
  }
});

describe("permit", () => {
  const scope: BuildScope = {
    kind: "build",
    namespace: "team-a",
    build: "app-1",
    repository: "app",
    branch: "main",
    fork: false,
  };
  const fork: BuildScope = { ...scope, fork: true };
  const tag: BuildScope = {
    kind: "build",
    namespace: "team-a",
    build: "app-1",
    repository: "app",
    fork: false,
  };
  const reader: Scope = { kind: "reader", user: { username: "alice", groups: [], extra: {} } };
  const ok = { allowed: true };
  const no = (message: string) => ({ allowed: false, message });
  const table: Array<[string, Scope, Operation, object]> = [
    ["append its own log", scope, { action: "append-log", namespace: "team-a", build: "app-1" }, ok],
    ["read its own log", scope, { action: "read-log", namespace: "team-a", build: "app-1" }, ok],
    [
      "another Build's log",
      scope,
      { action: "append-log", namespace: "team-a", build: "app-2" },
      no("the token is for the Build team-a/app-1, not team-a/app-2"),
    ],
    [
      "the same name in another namespace",
      scope,
      { action: "read-log", namespace: "team-b", build: "app-1" },
      no("the token is for the Build team-a/app-1, not team-b/app-1"),
    ],
    [
      "restore its repository's caches",
      scope,
      { action: "restore-cache", namespace: "team-a", repository: "app" },
      ok,
    ],
    ["save them", scope, { action: "save-cache", namespace: "team-a", repository: "app" }, ok],
    [
      "another repository's caches",
      scope,
      { action: "restore-cache", namespace: "team-a", repository: "lib" },
      no("the token is for the Build team-a/app-1 of the Repository app, not team-a/lib"),
    ],
    ["a fork restores", fork, { action: "restore-cache", namespace: "team-a", repository: "app" }, ok],
    [
      "a fork never saves",
      fork,
      { action: "save-cache", namespace: "team-a", repository: "app" },
      no("builds of forks read caches and never write them"),
    ],
    [
      "a tag's build saves none",
      tag,
      { action: "save-cache", namespace: "team-a", repository: "app" },
      no("a build of a tag saves no cache (no branch)"),
    ],
    [
      "a reader's read asks the API server",
      reader,
      { action: "read-log", namespace: "team-a", build: "app-1" },
      {
        review: {
          namespace: "team-a",
          verb: "get",
          group: "kiln.dev",
          resource: "builds",
          subresource: "log",
          name: "app-1",
        },
      },
    ],
    [
      "a reader never appends",
      reader,
      { action: "append-log", namespace: "team-a", build: "app-1" },
      no("only build pods append logs and use caches"),
    ],
    [
      "nor touches caches",
      reader,
      { action: "restore-cache", namespace: "team-a", repository: "app" },
      no("only build pods append logs and use caches"),
    ],
  ];
  for (const [name, s, op, expected] of table) {
    test(name, (t) => t.assert.deepEqual(permit(s, op), expected));
  }
});
