import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseBytes, parseStoreConfig } from "./config.ts";

describe("parseBytes", () => {
  const table: Array<[string, number | undefined]> = [
    ["1048576", 1_048_576],
    ["512Mi", 512 * 2 ** 20],
    ["10Gi", 10 * 2 ** 30],
    ["1.5Gi", 1.5 * 2 ** 30],
    ["2G", 2e9],
    ["64k", 64_000],
    ["10 GB", undefined],
    ["-1", undefined],
    ["Gi", undefined],
  ];
  for (const [text, expected] of table) test(text, (t) => t.assert.equal(parseBytes(text), expected));
});

test("defaults: files on /var/lib/kiln-store, port 8081, metrics 9091, 30 days of logs, 10Gi of caches", () => {
  const c = parseStoreConfig([], {});
  assert.equal(c.backend, "files");
  assert.equal(c.dir, "/var/lib/kiln-store");
  assert.equal(c.port, 8081);
  assert.equal(c.metricsPort, 9091);
  assert.equal(c.logRetentionMs, 720 * 3_600_000);
  assert.equal(c.cacheMaxBytes, 10 * 2 ** 30);
  assert.equal(c.maxArchiveBytes, 4 * 2 ** 30);
  assert.equal(c.maxChunkBytes, 2 ** 20);
  assert.equal(c.audience, "kiln-store");
  assert.deepEqual(c.readAudiences, []);
  assert.equal(c.agentServiceAccount, "kiln-build");
});

test("flags win over the environment; sizes and durations as people write them", () => {
  const c = parseStoreConfig(
    ["--log-retention", "48h", "--cache-max-bytes", "1Gi", "--backend", "s3", "--s3-bucket", "kiln-ci"],
    {
      KILN_STORE_LOG_RETENTION: "1h",
      KILN_STORE_S3_ENDPOINT: "http://127.0.0.1:9000",
      KILN_STORE_S3_FORCE_PATH_STYLE: "true",
      KILN_STORE_READ_AUDIENCES: "https://kubernetes.default.svc, other",
      KILN_AGENT_SERVICE_ACCOUNT: "builder",
    },
  );
  assert.equal(c.logRetentionMs, 48 * 3_600_000);
  assert.equal(c.cacheMaxBytes, 2 ** 30);
  assert.equal(c.maxArchiveBytes, 2 ** 30, "no archive larger than all caches");
  assert.equal(c.backend, "s3");
  assert.equal(c.s3Bucket, "kiln-ci");
  assert.equal(c.s3Endpoint, "http://127.0.0.1:9000");
  assert.equal(c.s3ForcePathStyle, true);
  assert.deepEqual(c.readAudiences, ["https://kubernetes.default.svc", "other"]);
  assert.equal(c.agentServiceAccount, "builder");
});

test("bad input is a clear error naming the flag", () => {
  assert.throws(
    () => parseStoreConfig(["--backend", "s3"], {}),
    /--s3-bucket: the s3 backend needs a bucket/,
  );
  assert.throws(
    () => parseStoreConfig(["--log-retention", "30d"], {}),
    /--log-retention: "30d" is not a duration/,
  );
  assert.throws(
    () => parseStoreConfig(["--cache-max-bytes", "lots"], {}),
    /--cache-max-bytes: "lots" is not a size/,
  );
  assert.throws(
    () => parseStoreConfig(["--cache-max-bytes", "1Gi", "--max-archive-bytes", "2Gi"], {}),
    /--max-archive-bytes: one archive cannot be larger than all caches/,
  );
  assert.throws(() => parseStoreConfig(["--backend", "ftp"], {}), /--backend/);
  assert.throws(
    () => parseStoreConfig(["--s3-prefix", "kiln"], {}),
    /--s3-prefix: a prefix is empty or ends in "\/"/,
  );
  assert.throws(() => parseStoreConfig(["--bogus"], {}), /bogus/);
});
