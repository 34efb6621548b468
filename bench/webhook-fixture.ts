// What the webhook bench's processes share: the Repository and its webhook secret.
import { makeRepository } from "../test/fixtures/webhook.ts";

export const BENCH_SECRET = "bench-secret-0123456789";
export const BENCH_REPOSITORY = makeRepository("hello", "Codertocat", "Hello-World", {
  branches: ["master"],
  webhook: { secretRef: { name: "hello-webhook", key: "secret" } },
});
