import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { GitHubClients } from "../../lib/github.ts";
import { silentLogger } from "../../lib/log.ts";
import { sampleRepository } from "../../test/fixtures/build.ts";
import { ManifestSource, onGitHub } from "./manifest-source.ts";
import { parseManifest } from "./parse-manifest.ts";

describe("onGitHub", () => {
  const api = "https://api.github.com";
  test("no clone URL, or github.com: the contents API", (t) => {
    t.assert.equal(onGitHub(sampleRepository(), api), true);
    t.assert.equal(onGitHub(sampleRepository({ cloneURL: "https://github.com/acme/api.git" }), api), true);
  });
  test("GitHub Enterprise: the clone URL's host is the API's", (t) => {
    const repo = sampleRepository({
      github: { owner: "a", name: "b", apiURL: "https://ghe.example/api/v3" },
      cloneURL: "https://ghe.example/a/b.git",
    });
    t.assert.equal(onGitHub(repo, api), true);
  });
  test("anything else: git", (t) => {
    t.assert.equal(onGitHub(sampleRepository({ cloneURL: "https://gitlab.example/a/b.git" }), api), false);
    t.assert.equal(onGitHub(sampleRepository({ cloneURL: "file:///srv/git/b" }), api), false);
    t.assert.equal(
      onGitHub(sampleRepository({ cloneURL: "http://127.0.0.1:8080/b" }), "http://127.0.0.1:9"),
      false,
    );
  });
});

describe("ManifestSource over git", () => {
  test("reads the file at exactly the commit, caches it, and tells a missing file apart", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "kiln-manifest-test-"));
    try {
      const git = (...a: string[]) => execFileSync("git", ["-C", dir, ...a], { encoding: "utf8" }).trim();
      execFileSync("git", ["init", "-q", dir]);
      git("config", "user.email", "t@example.com");
      git("config", "user.name", "t");
      writeFileSync(join(dir, ".kiln.yaml"), "image: old\nsteps: [{name: a, run: x}]\n");
      git("add", "-A");
      git("commit", "-q", "-m", "one");
      const first = git("rev-parse", "HEAD");
      writeFileSync(join(dir, ".kiln.yaml"), "image: new\nsteps: [{name: a, run: x}]\n");
      git("commit", "-q", "-am", "two");
      git("rm", "-q", ".kiln.yaml");
      git("commit", "-q", "-m", "three");
      const third = git("rev-parse", "HEAD");
      let tokens = 0;
      const source = new ManifestSource({
        githubApiURL: "https://api.github.com",
        github: new GitHubClients({ log: silentLogger() }),
        parse: parseManifest,
        token: async () => {
          tokens++;
          return undefined;
        },
      });
      const repo = sampleRepository({ cloneURL: `file://${dir}` });
      const a = await source.read(repo, first);
      t.assert.equal(a.ok && a.pipeline.image, "old", "the old commit's file, not HEAD's");
      await source.read(repo, first);
      t.assert.equal(tokens, 1, "a commit is read once");
      const missing = await source.read(repo, third);
      t.assert.deepEqual(missing.ok ? undefined : missing.reason, "ManifestNotFound");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
