// KubeClient against a plain local HTTP server: JSON in and out, Status errors classified as
// lib/kube-errors.ts expects, and a success that is not JSON refused rather than read as empty.
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import { KubeApiError, KubeClient } from "./kube.ts";
import { isAlreadyExists, isConflict, isNotFound } from "./kube-errors.ts";

const seen: { method?: string; url?: string; type?: string; auth?: string; body: string }[] = [];
const server = http.createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    seen.push({
      method: req.method,
      url: req.url,
      type: req.headers["content-type"],
      auth: req.headers.authorization,
      body,
    });
    const send = (status: number, json: unknown) =>
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(json));
    if (req.url === "/text") res.writeHead(200, { "content-type": "text/plain" }).end("hello");
    else if (req.url?.startsWith("/exists"))
      send(409, { kind: "Status", reason: "AlreadyExists", code: 409 });
    else if (req.url?.startsWith("/stale")) send(409, { kind: "Status", reason: "Conflict", code: 409 });
    else if (req.url?.startsWith("/log?"))
      res.writeHead(200, { "content-type": "text/plain" }).end(`==> step\n${req.url.slice(5)}\n`);
    else if (req.url?.startsWith("/waiting"))
      send(400, {
        kind: "Status",
        reason: "BadRequest",
        code: 400,
        message: "container is waiting to start",
      });
    else if (req.url?.startsWith("/missing")) send(404, { kind: "Status", reason: "NotFound", code: 404 });
    else send(200, { echoed: body ? JSON.parse(body) : null });
  });
});
let client: KubeClient;

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [
      {
        name: "c",
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: "u", token: "secret-token" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  client = new KubeClient(kubeConfig);
});
after(() => {
  client.close();
  server.close();
});

describe("KubeClient", () => {
  test("a merge patch carries its content type, the bearer token and the query", async () => {
    const answer = await client.mergePatch<{ echoed: unknown }>("/apis/x/v1/things/a", { spec: { n: 1 } });
    assert.deepEqual(answer, { echoed: { spec: { n: 1 } } });
    await client.list("/api/v1/pods", { labelSelector: "a=b", limit: undefined });
    const [patch, list] = seen.slice(-2);
    assert.equal(patch?.method, "PATCH");
    assert.equal(patch?.type, "application/merge-patch+json");
    assert.equal(patch?.auth, "Bearer secret-token");
    assert.equal(list?.url, "/api/v1/pods?labelSelector=a%3Db");
  });

  test("Status errors: AlreadyExists, Conflict and NotFound are told apart", async () => {
    const exists = await client.create("/exists", {}).catch((err: unknown) => err);
    assert.ok(exists instanceof KubeApiError);
    assert.equal(isAlreadyExists(exists), true);
    assert.equal(isConflict(exists), false);
    const stale = await client.mergePatch("/stale", {}).catch((err: unknown) => err);
    assert.equal(isConflict(stale), true);
    assert.equal(isAlreadyExists(stale), false);
    assert.equal(isNotFound(await client.get("/missing").catch((err: unknown) => err)), true);
  });

  test("a 200 that is not JSON is an error, not an empty answer", async () => {
    await assert.rejects(client.get("/text"), /GET \/text: 200 answer is not JSON: hello/);
  });

  test("stream: a 2xx answer as it comes (text, not JSON); any other is the KubeApiError with its Status", async () => {
    const res = await client.stream("/log", { follow: true, container: "build" });
    let text = "";
    for await (const chunk of res) text += chunk;
    assert.equal(text, "==> step\nfollow=true&container=build\n");
    const refused = await client.stream("/waiting").catch((err: unknown) => err);
    assert.ok(refused instanceof KubeApiError);
    assert.equal(refused.code, 400);
    assert.equal(refused.body.message, "container is waiting to start");
  });
});
