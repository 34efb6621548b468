import assert from "node:assert/strict";
import { test } from "node:test";
import type { V1PodStatus } from "@kubernetes/client-node";
import { silentLogger } from "../../lib/log.ts";
import { type Api, HttpError } from "./client.ts";
import type { RawPod } from "./node-api.ts";
import { StatusWriter } from "./status-writer.ts";

function pod(rv: string, phase: string): RawPod {
  return {
    metadata: { name: "p", namespace: "ns", uid: "u1", resourceVersion: rv },
    spec: { containers: [] },
    status: { phase },
  };
}

test("a 409 on pods/status re-reads the pod and recomputes from its status", async () => {
  const puts: { path: string; body: RawPod }[] = [];
  let conflicts = 1;
  const api: Api = {
    server: new URL("https://127.0.0.1:1"),
    close() {},
    async request<T>(method: string, path: string, body?: unknown): Promise<T> {
      assert.equal(method, "PUT");
      puts.push({ path, body: body as RawPod });
      if (conflicts-- > 0) throw new HttpError(409, { message: "the object has been modified" });
      return body as T;
    },
    async get<T>(path: string): Promise<T | undefined> {
      assert.equal(path, "/api/v1/namespaces/ns/pods/p");
      return pod("2", "Running") as T;
    },
  };
  const seen: (string | undefined)[] = [];
  await new StatusWriter(api, silentLogger()).write(pod("1", "Pending"), (previous?: V1PodStatus) => {
    seen.push(previous?.phase);
    return { phase: "Succeeded" };
  });
  assert.deepEqual(seen, ["Pending", "Running"]);
  assert.deepEqual(
    puts.map((p) => [p.path, p.body.metadata.resourceVersion, p.body.status?.phase]),
    [
      ["/api/v1/namespaces/ns/pods/p/status", "1", "Succeeded"],
      ["/api/v1/namespaces/ns/pods/p/status", "2", "Succeeded"],
    ],
  );
});

test("a pod replaced by another of the same name (new uid) is not written", async () => {
  let puts = 0;
  const api: Api = {
    server: new URL("https://127.0.0.1:1"),
    close() {},
    async request<T>(): Promise<T> {
      puts++;
      throw new HttpError(409, {});
    },
    async get<T>(): Promise<T | undefined> {
      return { ...pod("9", "Pending"), metadata: { name: "p", namespace: "ns", uid: "u2" } } as T;
    },
  };
  await new StatusWriter(api, silentLogger()).write(pod("1", "Pending"), () => ({ phase: "Running" }));
  assert.equal(puts, 1);
});
