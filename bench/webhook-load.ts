// The load generator of the webhook bench (pinned to the other core by bench/webhook.ts): autocannon
// POSTing one signed push payload, each request with its own X-GitHub-Delivery so every accepted
// delivery is a new Build. Prints one JSON line of results.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import autocannon from "autocannon";

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    body: { type: "string" },
    signature: { type: "string" },
    duration: { type: "string", default: "10" },
    connections: { type: "string", default: "16" },
    run: { type: "string", default: "0" },
  },
});
const body = readFileSync(values.body!, "utf8");
let n = 0;
const result = await autocannon({
  url: values.url!,
  method: "POST",
  duration: Number(values.duration),
  connections: Number(values.connections),
  headers: {
    "content-type": "application/json",
    "x-github-event": "push",
    "x-hub-signature-256": values.signature!,
  },
  body,
  requests: [
    {
      setupRequest: (request) => ({
        ...request,
        headers: { ...request.headers, "x-github-delivery": `bench-${values.run}-${process.pid}-${n++}` },
      }),
    },
  ],
});
const ok = result["2xx"];
console.log(
  JSON.stringify({
    rps: ok / (result.duration || Number(values.duration)),
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  }),
);
