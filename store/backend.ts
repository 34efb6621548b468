// Where the store keeps its bytes: blobs under "/"-separated keys (store/keys.ts), written whole and
// atomically, read as streams. Logs and caches (logs.ts, caches.ts) are built on this alone, so every
// backend behaves the same: files on a directory (file-backend.ts) or S3-compatible object storage
// (s3-backend.ts).
import type { Readable } from "node:stream";

export interface BlobInfo {
  key: string;
  size: number;
  /** When the blob was written (ms since the epoch; S3 keeps whole seconds). */
  modified: number;
}

export interface Backend {
  readonly kind: "files" | "s3";
  /**
   * Whether other store replicas write to the same backend, so what one process remembers of it may be
   * stale (S3); false for a directory only one replica uses.
   */
  readonly shared: boolean;
  /**
   * Writes a blob from a stream: readers see the old blob or the new one, never a part of either; of two
   * writes of one key at once, the last to finish wins. A body stream that errors leaves nothing behind.
   */
  put(key: string, body: Readable | Buffer): Promise<BlobInfo>;
  /** The blob's bytes from `start` (default 0), or undefined when there is no such blob. */
  get(key: string, start?: number): Promise<Readable | undefined>;
  stat(key: string): Promise<BlobInfo | undefined>;
  /** Every blob whose key starts with `prefix` (in no particular order). */
  list(prefix: string): AsyncIterable<BlobInfo>;
  /** Deletes blobs (a missing one is no error). */
  delete(keys: readonly string[]): Promise<void>;
  /** Throws when the backend cannot be used (readiness). */
  check(): Promise<void>;
  /** Removes what interrupted writes left behind, older than `olderThanMs` (the periodic sweep). */
  housekeeping(now: number, olderThanMs: number): Promise<void>;
}

/** Checks that a key is made of safe segments (keys.ts makes them so; this keeps a bug from escaping). */
export function assertKey(key: string): void {
  const parts = key.split("/");
  for (const part of parts) {
    if (
      part === "" ||
      part === "." ||
      part === ".." ||
      part.includes("\0") ||
      Buffer.byteLength(part) > 255
    ) {
      throw new Error(`not a valid store key: ${JSON.stringify(key)}`);
    }
  }
}
