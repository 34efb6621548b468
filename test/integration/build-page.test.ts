// The build pages against the test cluster and a real `kiln store`, the webhook under its install RBAC
// (page-world.ts): Builds from its informer, newest first; a running build's log followed as server-sent
// events while its agent appends; the whole log of a finished one; --page-auth with real TokenReviews and
// SubjectAccessReviews. The browser's view of the same: test/browser/build-page.test.ts.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { resourcePath } from "../../lib/kube.ts";
import { waitFor } from "../wait-for.ts";
import { type HandMadeBuild, type PageWorld, pageReady, seedBuilds, startPageWorld } from "./page-world.ts";
import { requestToken } from "./store-harness.ts";

const NS = "team-a";
let pw: PageWorld;
let running: HandMadeBuild;

before(async () => {
  pw = await startPageWorld();
  ({ running } = await seedBuilds(pw, NS, "not ok 2 <script>x</script>"));
});
after(() => pw?.stop());

interface Event {
  event: string;
  id?: string;
  data: string;
}

/** Server-sent events as they arrive. */
async function* events(res: Response): AsyncGenerator<Event> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf("\n\n");
      const e: Event = { event: "message", data: "" };
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) e.event = line.slice(7);
        else if (line.startsWith("id: ")) e.id = line.slice(4);
        else if (line.startsWith("data: ")) e.data += line.slice(6);
      }
      if (e.data) yield e;
    }
  }
}

async function next(stream: AsyncGenerator<Event>, event: string): Promise<Event> {
  for (;;) {
    const { value, done } = await stream.next();
    if (done) throw new Error(`the stream ended before a ${event} event`);
    if (value.event === event) return value;
  }
}

describe("the build pages on the test cluster", { timeout: 120_000 }, () => {
  test("the list: the repository's Builds newest first from the informer, and its JSON twin", async () => {
    const page = await pageReady(pw.base, `/repositories/${NS}/app`, (t) => t.includes("app-2"));
    assert.ok(page.indexOf(">app-2<") < page.indexOf(">app-1<"), "newest first");
    assert.match(page, /acme\/app/);
    const json = (await (
      await fetch(`${pw.base}/repositories/${NS}/app?format=json&phase=Failed`)
    ).json()) as {
      builds: { name: string }[];
    };
    assert.deepEqual(
      json.builds.map((b) => b.name),
      ["app-1"],
    );
    assert.equal((await fetch(`${pw.base}/repositories/${NS}/nope`)).status, 404);
  });

  test("a finished build: steps, the failing step's tail escaped, and its whole log as events, then the end", async () => {
    const page = await pageReady(pw.base, `/builds/${NS}/app-1`, (t) => t.includes("phase-failed"));
    assert.match(page, /<pre class="tail">not ok 2 &lt;script&gt;x&lt;\/script&gt;<\/pre>/);
    assert.match(page, /data-events="\/builds\/team-a\/app-1\/events"/);
    const res = await fetch(`${pw.base}/builds/${NS}/app-1/events`);
    assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const stream = events(res);
    const logs = [JSON.parse((await next(stream, "log")).data), JSON.parse((await next(stream, "log")).data)];
    assert.deepEqual(logs, [
      { step: 0, name: "build", text: "compiled\n" },
      { step: 1, name: "test", text: "ok 1\nnot ok 2 <script>x</script>\n" },
    ]);
    assert.deepEqual(JSON.parse((await next(stream, "end")).data), {
      phase: "Failed",
      reason: "the build finished",
    });
    const raw = await fetch(`${pw.base}/builds/${NS}/app-1/log?step=test`);
    assert.equal(raw.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(await raw.text(), "ok 1\nnot ok 2 <script>x</script>\n");
  });

  test("a running build: what the agent appends while the page follows arrives live; a reconnect resumes; the end", async () => {
    await pageReady(pw.base, `/builds/${NS}/app-2`);
    const abort = new AbortController();
    const stream = events(await fetch(`${pw.base}/builds/${NS}/app-2/events`, { signal: abort.signal }));
    const first = await next(stream, "log");
    assert.equal(JSON.parse(first.data).text, "first line\n");
    assert.equal(first.id, "0:11");
    await running.append("build", "second line\n", true);
    assert.equal(JSON.parse((await next(stream, "log")).data).text, "second line\n");
    // A step that starts later.
    await running.setStatus({
      phase: "Running",
      steps: [
        { name: "build", phase: "Succeeded" },
        { name: "test", phase: "Running" },
      ],
    });
    await running.append("test", "testing…\n");
    assert.deepEqual(JSON.parse((await next(stream, "log")).data), {
      step: 1,
      name: "test",
      text: "testing…\n",
    });
    abort.abort();
    // EventSource reconnects with the last id: only what came after it.
    const resumed = events(
      await fetch(`${pw.base}/builds/${NS}/app-2/events`, { headers: { "last-event-id": "0:11" } }),
    );
    assert.equal(JSON.parse((await next(resumed, "log")).data).text, "second line\n");
    await running.append("test", "done\n", true);
    await running.setStatus({
      phase: "Succeeded",
      steps: [
        { name: "build", phase: "Succeeded" },
        { name: "test", phase: "Succeeded" },
      ],
    });
    const rest: string[] = [];
    for (;;) {
      const e = (await resumed.next()).value!;
      if (e.event === "end") {
        assert.equal(JSON.parse(e.data).phase, "Succeeded");
        break;
      }
      if (e.event === "log") rest.push(JSON.parse(e.data).text);
    }
    assert.equal(rest.join(""), "testing…\ndone\n");
  });
});

describe("--page-auth with the API server's reviews", { timeout: 60_000 }, () => {
  let reader: string;
  let stranger: string;
  before(async () => {
    const admin = pw.world.admin;
    for (const name of ["reader", "stranger"]) {
      await admin.create(resourcePath("v1", "serviceaccounts", NS), {
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: { name },
      });
    }
    await admin.create(resourcePath("rbac.authorization.k8s.io/v1", "rolebindings", NS), {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "reader-logs" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "kiln-build-log-reader" },
      subjects: [{ kind: "ServiceAccount", name: "reader", namespace: NS }],
    });
    // Tokens as `kubectl create token` makes them: the API server's own audience.
    reader = await requestToken(admin, NS, "reader", {});
    stranger = await requestToken(admin, NS, "stranger", {});
  });

  test("no token or a forged one: 401; a token without get builds/log: 403; with it: the page, by header or cookie", async () => {
    const url = `${pw.guarded.url}/builds/${NS}/app-1`;
    await waitFor(
      "the guarded webhook's caches",
      async () => (await fetch(url, { headers: { authorization: `Bearer ${reader}` } })).status === 200,
    );
    const none = await fetch(url);
    assert.equal(none.status, 401);
    assert.match(await none.text(), /needs a Kubernetes token/);
    assert.equal((await fetch(url, { headers: { authorization: "Bearer not-a-token" } })).status, 401);
    const refused = await fetch(url, { headers: { authorization: `Bearer ${stranger}` } });
    assert.equal(refused.status, 403);
    assert.match(
      await refused.text(),
      /system:serviceaccount:team-a:stranger may not get builds\/log in team-a/,
    );
    const link = await fetch(`${url}?token=${encodeURIComponent(reader)}`, { redirect: "manual" });
    assert.equal(link.status, 303);
    const cookie = link.headers.get("set-cookie")!.split(";")[0]!;
    const page = await fetch(url, { headers: { cookie } });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /phase-failed/);
    // The events and the raw log are guarded alike.
    assert.equal((await fetch(`${url}/events`)).status, 401);
    assert.equal(
      (await fetch(`${url}/log?step=test`, { headers: { authorization: `Bearer ${stranger}` } })).status,
      403,
    );
  });

  test("without --page-auth, anyone who reaches the server reads the pages", async () => {
    assert.equal((await fetch(`${pw.base}/builds/${NS}/app-1`)).status, 200);
  });
});
