// One server of the webhook bench, in its own process (pinned by bench/webhook.ts):
//   --variant bare: node:http reading the body, verifying the HMAC and parsing JSON — the floor;
//   --variant kiln: Kiln's webhook app (koa), same work plus routing, filters, the Build decision.
//   --sink noop: no Build creation; --sink kube: Builds created in the API server of --kubeconfig.
// Prints "READY <port>" once listening.
import { createHmac, timingSafeEqual } from "node:crypto";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { KubeClient } from "../lib/kube.ts";
import { silentLogger } from "../lib/log.ts";
import { memoryRepositories, memorySecrets } from "../test/fixtures/webhook.ts";
import { waitFor } from "../test/wait-for.ts";
import { buildFromPush } from "../webhook/build-from-push.ts";
import { DEFAULT_MAX_BODY_BYTES } from "../webhook/config.ts";
import { createApp } from "../webhook/create-app.ts";
import type { BuildSink } from "../webhook/deps.ts";
import { kubeBuildSink } from "../webhook/kube-builds.ts";
import { startWebhook } from "../webhook/main.ts";
import type { PushEvent } from "../webhook/payloads.ts";
import { BENCH_REPOSITORY, BENCH_SECRET } from "./webhook-fixture.ts";

const MAX_BODY = DEFAULT_MAX_BODY_BYTES;

const { values } = parseArgs({
  options: { variant: { type: "string" }, sink: { type: "string" }, kubeconfig: { type: "string" } },
});
const CREATED = Buffer.from('{"message":"build created"}');
const noop: BuildSink = { create: async () => "created" };

function kubeSink(): BuildSink {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(values.kubeconfig!);
  return kubeBuildSink(new KubeClient(kubeConfig));
}

async function bare(sink: BuildSink): Promise<number> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        res.writeHead(413, { connection: "close" }).end();
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", async () => {
      const body = Buffer.concat(chunks);
      const expected = Buffer.from(`sha256=${createHmac("sha256", BENCH_SECRET).update(body).digest("hex")}`);
      const given = Buffer.from(String(req.headers["x-hub-signature-256"] ?? ""));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        res.writeHead(401).end();
        return;
      }
      let payload: PushEvent;
      try {
        payload = JSON.parse(body.toString("utf8")) as PushEvent;
      } catch {
        res.writeHead(400).end();
        return;
      }
      try {
        const outcome = buildFromPush(payload, BENCH_REPOSITORY, String(req.headers["x-github-delivery"]));
        if (outcome.kind === "build") await sink.create(outcome.build);
        // With a length, as koa sends it: a chunked answer would cost the baseline an extra write.
        res
          .writeHead(201, { "content-type": "application/json", "content-length": CREATED.length })
          .end(CREATED);
      } catch {
        res.writeHead(503).end();
      }
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
}

async function kiln(sinkName: string): Promise<number> {
  if (sinkName === "kube") {
    // The real `kiln webhook`: Repository informer, cached Secret reads, Builds through the API.
    const running = await startWebhook({
      kubeconfig: values.kubeconfig!,
      host: "127.0.0.1",
      port: 0,
      maxBodyBytes: MAX_BODY,
      namespaces: ["default"],
      secretCacheSeconds: 30,
      pageAuth: false,
      logLevel: "silent",
    });
    await waitFor("the webhook's Repository cache", async () => (await fetch(`${running.url}/readyz`)).ok);
    return Number(new URL(running.url).port);
  }
  const app = createApp({
    repositories: memoryRepositories([BENCH_REPOSITORY]),
    secrets: memorySecrets({ hello: [BENCH_SECRET] }),
    builds: noop,
    log: silentLogger(),
    maxBodyBytes: MAX_BODY,
  });
  const server = createServer(app.callback());
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
}

const port =
  values.variant === "bare"
    ? await bare(values.sink === "kube" ? kubeSink() : noop)
    : await kiln(values.sink ?? "noop");
console.log(`READY ${port}`);
process.on("SIGTERM", () => process.exit(0));
