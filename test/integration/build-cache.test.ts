// `cache:` through real builds: the test API server, the build controller, the process kubelet running
// the pods (kiln fetch, the runner, kiln agent) and a real `kiln store`. What a step finds before it
// runs is what the agent restored; what the next build finds is what the agent saved.
import assert from "node:assert/strict";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import type { Build } from "../../api/build.ts";
import { CONTAINERS } from "../../api/pod-protocol.ts";
import { type Harness, podPath, startHarness, waitFor } from "./build-harness.ts";

let h: Harness;

before(async () => {
  h = await startHarness({ kubelet: true, store: true });
  await h.createRepository("app", { concurrency: 4, cancelSuperseded: false, approveForks: false });
  await h.startController();
});
after(() => h.stop());

// A non-root build user: restored files belong to the agent's user, and must still be the step's to
// change (group-writable, the pod's fsGroup is one of its groups). /usr/local/share/.cache is outside the
// workspace (not /root/.npm: /root is 0700 in most images, no place for a non-root user's cache).
const MANIFEST = `image: node:24
user: "1000"
cache: {key: npm, paths: [node_modules, /usr/local/share/.cache], files: [package-lock.json]}
steps:
  - name: install
    run: |
      if [ -f node_modules/x ]; then echo "found $(cat node_modules/x)"; else echo absent; fi
      if [ -f /usr/local/share/.cache/y ]; then echo "npm found $(cat /usr/local/share/.cache/y)"; else echo "npm absent"; fi
      mkdir -p node_modules && echo "$KILN_BUILD" >> node_modules/x
      echo "$KILN_BUILD" > /usr/local/share/.cache/y
`;

async function buildLog(build: Build): Promise<string> {
  const res = await h.client.stream(`${podPath(build.status!.podName!)}/log`, {
    container: CONTAINERS.build,
  });
  let text = "";
  for await (const chunk of res as AsyncIterable<Buffer>) text += chunk.toString();
  return text;
}

async function run(name: string, sha: string, spec: Parameters<Harness["createBuild"]>[1]["spec"] = {}) {
  await h.createBuild(name, { sha, spec });
  const b = await waitFor(
    `build ${name} to finish`,
    async () => {
      const build = await h.getBuild(name);
      return build?.status?.completionTime ? build : undefined;
    },
    90_000,
  );
  const log = await buildLog(b);
  assert.equal(b.status?.phase, "Succeeded", `${JSON.stringify(b.status, null, 1)}\n${log}`);
  return log;
}

describe("caches in build pods", { timeout: 300_000 }, () => {
  let v1: string;

  test("the second build of the same lock file finds what the first saved, before its first step", async () => {
    v1 = await h.repo.commit({ ".kiln.yaml": MANIFEST, "package-lock.json": '{"v": 1}\n' });
    const first = await run("cache-1", v1);
    assert.match(first, /^cache: miss \(npm-[0-9a-f]{32}\)$/m);
    assert.match(first, /^absent$/m);
    assert.match(first, /^npm absent$/m);
    const saved = /^cache: saved (npm-[0-9a-f]{32}) \(/m.exec(first);
    assert.ok(saved, first);

    const second = await run("cache-2", v1);
    assert.match(
      second,
      new RegExp(`^cache: restored ${saved[1]} \\(exact, [\\d.]+ k?B, [\\d.]+ s\\)$`, "m"),
    );
    assert.ok(second.indexOf("cache: restored") < second.indexOf("==> install"), "before the first step");
    assert.match(second, /^found cache-1$/m);
    assert.match(second, /^npm found cache-1$/m, "the path outside the workspace too");
    assert.match(second, new RegExp(`^cache: not saved \\(${saved[1]} was restored exactly\\)$`, "m"));
  });

  test("a changed lock file misses its key: the newest npm- cache of the branch stands in, and its own is saved", async () => {
    const v2 = await h.repo.commit({ ".kiln.yaml": MANIFEST, "package-lock.json": '{"v": 2}\n' });
    const log = await run("cache-3", v2);
    const restored = /^cache: restored (npm-[0-9a-f]{32}) \(fallback from branch main, /m.exec(log);
    assert.ok(restored, log);
    // The build found the fallback's files (cache-1's, with cache-2 not having saved), and saves a new key.
    assert.match(log, /^found cache-1$/m);
    const saved = /^cache: saved (npm-[0-9a-f]{32}) \(/m.exec(log);
    assert.ok(saved && saved[1] !== restored[1], log);
  });

  test("another cache key finds nothing: the step sees the paths absent", async () => {
    const sha = await h.repo.commit({
      ".kiln.yaml": MANIFEST.replace("key: npm", "key: yarn"),
      "package-lock.json": '{"v": 1}\n',
    });
    const log = await run("cache-4", sha);
    assert.match(log, /^cache: miss \(yarn-[0-9a-f]{32}\)$/m);
    assert.match(log, /^absent$/m);
  });

  test("two builds at once both finish, and both save (last writer wins, nobody waits)", async () => {
    // Each build's second step waits until the other's has come too: their caches' work overlaps.
    const waiting: ServerResponse[] = [];
    const meeting = createServer((_req, res) => {
      waiting.push(res);
      if (waiting.length === 2) for (const r of waiting) r.end("met\n");
    });
    await new Promise<void>((resolve) => meeting.listen(0, "127.0.0.1", resolve));
    const { port } = meeting.address() as AddressInfo;
    try {
      const meet = `  - name: meet\n    run: node -e "fetch('http://127.0.0.1:${port}/').then((r) => r.text()).then(console.log)"\n`;
      const v3 = await h.repo.commit({ ".kiln.yaml": MANIFEST + meet, "package-lock.json": '{"v": 3}\n' });
      const [a, b] = await Promise.all([run("cache-5", v3), run("cache-6", v3)]);
      for (const log of [a, b]) {
        assert.match(log, /^met$/m);
        assert.match(log, /^cache: restored npm-[0-9a-f]{32} \(fallback from branch main, /m, log);
        assert.match(log, /^cache: saved npm-[0-9a-f]{32} \(/m, log);
      }
    } finally {
      meeting.close();
    }
  });

  test("a fork's pull request restores but never saves", async () => {
    const log = await run("cache-fork", v1, {
      trigger: { event: "pull_request", pullRequest: { number: 7, fork: true } },
    });
    assert.match(log, /^cache: restored npm-[0-9a-f]{32} \(exact, /m);
    assert.match(log, /^cache: not saved \(fork\)$/m);
  });
});
