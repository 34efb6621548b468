// S3-compatible object storage (AWS S3, MinIO, Ceph RGW, GCS's XML API …) through @aws-sdk/client-s3, for
// clusters that outgrow one volume: several store replicas share one bucket. An object appears whole when
// its upload completes, so writes are atomic and the last to complete wins, as S3 promises. A stream of
// unknown length goes up as a multipart upload in parts of `partBytes` (at most two parts in memory: one
// uploading, one filling), never buffered whole; a failed upload is aborted. Credentials come from the
// SDK's usual chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a web identity token, an instance role …).
import { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { assertKey, type Backend, type BlobInfo } from "./backend.ts";

export interface S3Settings {
  bucket: string;
  /** Keys are stored under this prefix ("kiln/"), so one bucket can hold more than the store. */
  prefix: string;
  /** An endpoint other than AWS's (MinIO, Ceph …). */
  endpoint?: string;
  region: string;
  /** Bucket in the path (http://host/bucket/key), as most S3-compatible servers want. */
  forcePathStyle: boolean;
  /** Multipart part size (S3's minimum is 5 MiB). */
  partBytes: number;
  /** Explicit credentials (tests); otherwise the SDK's default chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export const DEFAULT_PART_BYTES = 8 * 1024 * 1024;

export class S3Backend implements Backend {
  readonly kind = "s3";
  readonly shared = true;
  readonly #client: S3Client;
  readonly #s: S3Settings;

  constructor(settings: S3Settings) {
    this.#s = settings;
    this.#client = new S3Client({
      region: settings.region,
      forcePathStyle: settings.forcePathStyle,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      ...(settings.credentials ? { credentials: settings.credentials } : {}),
      // Checksums only where S3 requires them: S3-compatible servers do not all know the newer ones.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  }

  private objectKey(key: string): string {
    assertKey(key);
    return `${this.#s.prefix}${key}`;
  }

  async put(key: string, body: Readable | Buffer): Promise<BlobInfo> {
    const Bucket = this.#s.bucket;
    const Key = this.objectKey(key);
    if (Buffer.isBuffer(body)) return this.putWhole(key, body);
    const parts = partsOf(body, this.#s.partBytes);
    const first = await parts.next();
    const second = first.done ? first : await parts.next();
    if (second.done) return this.putWhole(key, first.done ? Buffer.alloc(0) : first.value);
    const { UploadId } = await this.#client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const uploaded: Array<{ ETag: string | undefined; PartNumber: number }> = [];
    let size = 0;
    let inFlight: Promise<void> | undefined;
    const upload = (part: Buffer, PartNumber: number) =>
      this.#client
        .send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body: part }))
        .then((r) => {
          uploaded.push({ ETag: r.ETag, PartNumber });
        });
    try {
      let number = 0;
      for (const part of [first.value, second.value] as Buffer[]) {
        await inFlight;
        size += part.length;
        inFlight = upload(part, ++number);
      }
      for await (const part of { [Symbol.asyncIterator]: () => parts }) {
        await inFlight;
        size += part.length;
        inFlight = upload(part, ++number);
      }
      await inFlight;
      await this.#client.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key,
          UploadId,
          MultipartUpload: { Parts: uploaded.sort((a, b) => a.PartNumber - b.PartNumber) },
        }),
      );
    } catch (err) {
      await inFlight?.catch(() => {});
      await this.#client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => {});
      throw err;
    }
    const info = await this.stat(key);
    return info ?? { key, size, modified: Date.now() };
  }

  private async putWhole(key: string, body: Buffer): Promise<BlobInfo> {
    await this.#client.send(
      new PutObjectCommand({
        Bucket: this.#s.bucket,
        Key: this.objectKey(key),
        Body: body,
        ContentLength: body.length,
      }),
    );
    return (await this.stat(key)) ?? { key, size: body.length, modified: Date.now() };
  }

  async get(key: string, start = 0): Promise<Readable | undefined> {
    try {
      const answer = await this.#client.send(
        new GetObjectCommand({
          Bucket: this.#s.bucket,
          Key: this.objectKey(key),
          ...(start > 0 ? { Range: `bytes=${start}-` } : {}),
        }),
      );
      return answer.Body as Readable;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      // A range starting at the end (or past it) of a blob that exists: nothing more to read.
      if (statusOf(err) === 416) return Readable.from([]);
      throw err;
    }
  }

  async stat(key: string): Promise<BlobInfo | undefined> {
    try {
      const head = await this.#client.send(
        new HeadObjectCommand({ Bucket: this.#s.bucket, Key: this.objectKey(key) }),
      );
      return { key, size: head.ContentLength ?? 0, modified: head.LastModified?.getTime() ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    let ContinuationToken: string | undefined;
    do {
      const page = await this.#client.send(
        new ListObjectsV2Command({
          Bucket: this.#s.bucket,
          Prefix: `${this.#s.prefix}${prefix}`,
          ContinuationToken,
        }),
      );
      for (const o of page.Contents ?? []) {
        if (!o.Key) continue;
        yield {
          key: o.Key.slice(this.#s.prefix.length),
          size: o.Size ?? 0,
          modified: o.LastModified?.getTime() ?? 0,
        };
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000).map((k) => ({ Key: this.objectKey(k) }));
      const answer = await this.#client.send(
        new DeleteObjectsCommand({ Bucket: this.#s.bucket, Delete: { Objects: batch, Quiet: true } }),
      );
      const failed = (answer.Errors ?? []).filter((e) => e.Code !== "NoSuchKey");
      if (failed.length > 0) {
        throw new Error(
          `S3 refused to delete ${failed.length} objects: ${failed[0]?.Code} ${failed[0]?.Message}`,
        );
      }
    }
  }

  async check(): Promise<void> {
    await this.#client.send(new HeadBucketCommand({ Bucket: this.#s.bucket }));
  }

  /**
   * Aborts multipart uploads a crashed replica left. A server that cannot list them (some S3-compatible
   * ones) needs a lifecycle rule (AbortIncompleteMultipartUpload) instead.
   */
  async housekeeping(now: number, olderThanMs: number): Promise<void> {
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    do {
      let page: ListMultipartUploadsCommandOutput;
      try {
        page = await this.#client.send(
          new ListMultipartUploadsCommand({
            Bucket: this.#s.bucket,
            Prefix: this.#s.prefix,
            KeyMarker,
            UploadIdMarker,
          }),
        );
      } catch (err) {
        if ((err as { name?: string }).name === "NotImplemented") return;
        throw err;
      }
      for (const u of page.Uploads ?? []) {
        if (u.Key && u.UploadId && u.Initiated && now - u.Initiated.getTime() > olderThanMs) {
          await this.#client.send(
            new AbortMultipartUploadCommand({ Bucket: this.#s.bucket, Key: u.Key, UploadId: u.UploadId }),
          );
        }
      }
      KeyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      UploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (KeyMarker);
  }

  close(): void {
    this.#client.destroy();
  }
}

/** A stream cut into parts of `size` bytes (the last one shorter). */
async function* partsOf(body: Readable, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    let rest = chunk;
    while (pendingBytes + rest.length >= size) {
      const take = size - pendingBytes;
      pending.push(rest.subarray(0, take));
      yield Buffer.concat(pending, size);
      rest = rest.subarray(take);
      pending = [];
      pendingBytes = 0;
    }
    if (rest.length > 0) {
      pending.push(rest);
      pendingBytes += rest.length;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function isNotFound(err: unknown): boolean {
  const name = (err as { name?: string }).name;
  return name === "NoSuchKey" || name === "NotFound" || (name !== "NoSuchBucket" && statusOf(err) === 404);
}
