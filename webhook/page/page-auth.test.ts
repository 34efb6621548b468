// --page-auth's reviews against a scripted API: a token is trusted no longer than it says it lives, a
// refusal is 401 and a missing builds/log 403.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { KubeClient } from "../../lib/kube.ts";
import { kubePageAuth } from "./page-auth.ts";

const jwt = (claims: object) => `h.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.s`;

function scripted(allowed = true) {
  const reviews: string[] = [];
  const client = {
    create: async (path: string, body: { spec: { token?: string } }) => {
      if (path.endsWith("/tokenreviews")) {
        reviews.push(body.spec.token ?? "");
        return { status: { authenticated: body.spec.token !== "bad", user: { username: "ada" } } };
      }
      return { status: { allowed } };
    },
  };
  return { client: client as unknown as KubeClient, reviews };
}

describe("kubePageAuth", () => {
  test("a reviewed token is trusted for a minute, but never past its exp", async () => {
    let now = 1_000_000;
    const { client, reviews } = scripted();
    const auth = kubePageAuth(client, () => now);
    const short = jwt({ exp: (now + 5_000) / 1000 });
    await auth.check(short, "ci");
    now += 4_000;
    await auth.check(short, "ci");
    assert.equal(reviews.length, 1, "within its life: the cached review");
    now += 2_000;
    await auth.check(short, "ci");
    assert.equal(reviews.length, 2, "past its exp: reviewed again (the API server says whether it still is)");
    const long = jwt({ exp: (now + 3_600_000) / 1000 });
    await auth.check(long, "ci");
    now += 59_000;
    await auth.check(long, "ci");
    assert.equal(reviews.length, 3);
    now += 2_000;
    await auth.check(long, "ci");
    assert.equal(reviews.length, 4, "a minute at most");
  });

  test("no token or a refused one: 401; no builds/log: 403", async () => {
    await assert.rejects(kubePageAuth(scripted().client).check(undefined, "ci"), { status: 401 });
    await assert.rejects(kubePageAuth(scripted().client).check("bad", "ci"), { status: 401 });
    await assert.rejects(kubePageAuth(scripted(false).client).check("good", "ci"), { status: 403 });
  });
});
