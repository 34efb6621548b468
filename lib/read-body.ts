// Request bodies within a cap: readBody reads one into memory, limitBytes passes a streamed one through.
// Past the cap they stop and answer 413, so a client cannot make the server buffer or store an
// arbitrarily large body.
import type { IncomingMessage } from "node:http";
import { Transform } from "node:stream";
import { HttpError } from "./http-error.ts";

export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      // Leaving the loop stops reading; the caller answers with Connection: close.
      throw tooLarge(maxBytes);
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, `request body is larger than ${maxBytes} bytes`);
}

/**
 * Passes a stream through while it stays within `maxBytes`; past that it fails with 413 (the caller's
 * pipeline then stops reading and discards what it wrote). For bodies streamed, never held whole.
 */
export function limitBytes(maxBytes: number): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      total += chunk.length;
      if (total > maxBytes) done(tooLarge(maxBytes));
      else done(null, chunk);
    },
  });
}
