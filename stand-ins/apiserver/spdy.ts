// SPDY/3.1 framing, as much of it as Kubernetes' streaming protocols use — the other end is
// moby/spdystream, under kubectl's SPDY executor (`KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false`, or its
// fallback when a WebSocket upgrade fails). Pure: bytes in, frames out, and frames to bytes.
//
// Frames (draft-mbelshe-httpbis-spdy-00 §2.2, §2.6): a control frame is `1 | version(15) | type(16)`,
// `flags(8) | length(24)`, payload; a data frame is `0 | stream-id(31)`, `flags(8) | length(24)`, data.
// Header blocks (SYN_STREAM, SYN_REPLY, HEADERS) are `count, (len name, len value)*` with 32-bit
// lengths, compressed by one zlib stream per direction for the whole connection, primed with the
// spec's dictionary and sync-flushed after each block.
//
// Not here, as spdystream does not use it either: flow control (it never sends WINDOW_UPDATE and
// ignores them), server push, priorities, SETTINGS.
import * as zlib from "node:zlib";

export const SPDY_VERSION = 3;
export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;
/** RST_STREAM and GOAWAY status codes used here. */
export const PROTOCOL_ERROR = 1;
export const GOAWAY_OK = 0;

const SYN_STREAM = 1;
const SYN_REPLY = 2;
const RST_STREAM = 3;
const PING = 6;
const GOAWAY = 7;
const HEADERS = 8;

/** The SPDY/3 header-compression dictionary (§2.6.10.1): length-prefixed words, then a text. */
export const HEADER_DICTIONARY: Buffer = (() => {
  const words = [
    "options",
    "head",
    "post",
    "put",
    "delete",
    "trace",
    "accept",
    "accept-charset",
    "accept-encoding",
    "accept-language",
    "accept-ranges",
    "age",
    "allow",
    "authorization",
    "cache-control",
    "connection",
    "content-base",
    "content-encoding",
    "content-language",
    "content-length",
    "content-location",
    "content-md5",
    "content-range",
    "content-type",
    "date",
    "etag",
    "expect",
    "expires",
    "from",
    "host",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "last-modified",
    "location",
    "max-forwards",
    "pragma",
    "proxy-authenticate",
    "proxy-authorization",
    "range",
    "referer",
    "retry-after",
    "server",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "vary",
    "via",
    "warning",
    "www-authenticate",
    "method",
    "get",
    "status",
    "200 OK",
    "version",
    "HTTP/1.1",
    "url",
    "public",
    "set-cookie",
    "keep-alive",
    "origin",
  ];
  const tail =
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505" +
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized" +
    "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable" +
    "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT" +
    "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain," +
    "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";
  return Buffer.concat([...words.map((w) => lengthPrefixed(Buffer.from(w))), Buffer.from(tail)]);
})();

/** Header names (lower case, as SPDY requires) to their values (a value may hold several, NUL-separated). */
export type Headers = Map<string, string[]>;

export type Frame =
  | { type: "data"; streamId: number; fin: boolean; data: Buffer }
  | { type: "syn_stream"; streamId: number; fin: boolean; unidirectional: boolean; headers: Headers }
  | { type: "rst_stream"; streamId: number; status: number }
  | { type: "ping"; id: number }
  | { type: "goaway"; lastStreamId: number; status: number }
  /** SYN_REPLY, HEADERS (their header blocks still inflated), SETTINGS, WINDOW_UPDATE … */
  | { type: "other"; frameType: number };

/** A violation of the protocol: the connection cannot go on. */
export class SpdyError extends Error {}

/** Everything the peer's compressor may have written on one connection (ours are a few hundred bytes). */
const MAX_COMPRESSED_HEADERS = 1 << 20;

/**
 * The peer's header compression. Node's zlib has no synchronous streaming inflate, so the whole
 * compressed history is inflated again for each block (sync-flushed, so a prefix inflates cleanly)
 * and the new part of the output is the block: quadratic, but a connection carries a handful.
 */
class HeaderInflater {
  private readonly compressed: Buffer[] = [];
  private size = 0;
  private produced = 0;

  inflate(block: Buffer): Buffer {
    this.size += block.length;
    if (this.size > MAX_COMPRESSED_HEADERS) throw new SpdyError("too many header bytes on one connection");
    this.compressed.push(block);
    let all: Buffer;
    try {
      all = zlib.inflateSync(Buffer.concat(this.compressed), {
        dictionary: HEADER_DICTIONARY,
        finishFlush: zlib.constants.Z_SYNC_FLUSH,
      });
    } catch (error) {
      throw new SpdyError(`bad compressed header block: ${(error as Error).message}`);
    }
    const out = all.subarray(this.produced);
    this.produced = all.length;
    return out;
  }
}

/**
 * Our header compression: stored (uncompressed) deflate blocks in a zlib stream that names the
 * dictionary, each block sync-flushed — valid for any zlib reader, synchronous, and small enough for
 * the empty header blocks a streaming server sends.
 */
class HeaderDeflater {
  private started = false;

  deflate(block: Buffer): Buffer {
    const parts: Buffer[] = [];
    if (!this.started) {
      this.started = true;
      // CMF 0x78 (deflate, 32 KiB window), FLG 0x20 (FDICT; 0x7820 is a multiple of 31), DICTID.
      const head = Buffer.alloc(6);
      head.writeUInt16BE(0x7820, 0);
      head.writeUInt32BE(adler32(HEADER_DICTIONARY), 2);
      parts.push(head);
    }
    for (let at = 0; at < block.length; at += 0xffff) {
      const chunk = block.subarray(at, at + 0xffff);
      const stored = Buffer.alloc(5);
      stored.writeUInt8(0, 0); // BFINAL 0, BTYPE 00 (stored), padded to the byte
      stored.writeUInt16LE(chunk.length, 1);
      stored.writeUInt16LE(~chunk.length & 0xffff, 3);
      parts.push(stored, chunk);
    }
    // A sync flush (an empty stored block): only there does a zlib reader hand out what it has
    // (Go's flate would otherwise read on into the next frame for the next block's header).
    parts.push(Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]));
    return Buffer.concat(parts);
  }
}

export function adler32(data: Buffer): number {
  let a = 1;
  let b = 0;
  for (const byte of data) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

function lengthPrefixed(data: Buffer): Buffer {
  const n = Buffer.alloc(4);
  n.writeUInt32BE(data.length);
  return Buffer.concat([n, data]);
}

export function encodeHeaderBlock(headers: Record<string, string | string[]>): Buffer {
  const entries = Object.entries(headers);
  const count = Buffer.alloc(4);
  count.writeUInt32BE(entries.length);
  return Buffer.concat([
    count,
    ...entries.flatMap(([name, value]) => [
      lengthPrefixed(Buffer.from(name.toLowerCase())),
      lengthPrefixed(Buffer.from((Array.isArray(value) ? value : [value]).join("\0"))),
    ]),
  ]);
}

export function decodeHeaderBlock(block: Buffer): Headers {
  const headers: Headers = new Map();
  let at = 0;
  const take = (n: number) => {
    if (at + n > block.length) throw new SpdyError("truncated header block");
    const part = block.subarray(at, at + n);
    at += n;
    return part;
  };
  const count = take(4).readUInt32BE();
  for (let i = 0; i < count; i++) {
    const name = take(take(4).readUInt32BE()).toString().toLowerCase();
    const value = take(take(4).readUInt32BE()).toString();
    headers.set(name, [...(headers.get(name) ?? []), ...value.split("\0")]);
  }
  if (at !== block.length) throw new SpdyError("extra bytes after the header block");
  return headers;
}

/** Frames from the peer's bytes, as they arrive. */
export class FrameDecoder {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly headers = new HeaderInflater();

  push(chunk: Buffer): Frame[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const frames: Frame[] = [];
    while (this.buffer.length >= 8) {
      const length = this.buffer.readUInt32BE(4) & 0xffffff;
      if (this.buffer.length < 8 + length) break;
      const frame = this.buffer.subarray(0, 8 + length);
      this.buffer = this.buffer.subarray(8 + length);
      frames.push(this.decode(frame));
    }
    return frames;
  }

  private decode(frame: Buffer): Frame {
    const first = frame.readUInt32BE(0);
    const flags = frame.readUInt8(4);
    const payload = frame.subarray(8);
    if ((first & 0x80000000) === 0) {
      return { type: "data", streamId: first & 0x7fffffff, fin: (flags & FLAG_FIN) !== 0, data: payload };
    }
    const version = (first >>> 16) & 0x7fff;
    const type = first & 0xffff;
    if (version !== SPDY_VERSION) throw new SpdyError(`unsupported SPDY version ${version}`);
    const need = (n: number) => {
      if (payload.length < n) throw new SpdyError(`control frame ${type} too short`);
    };
    switch (type) {
      case SYN_STREAM: {
        need(10);
        const streamId = payload.readUInt32BE(0) & 0x7fffffff;
        if (streamId === 0) throw new SpdyError("SYN_STREAM for stream 0");
        const headers = decodeHeaderBlock(this.headers.inflate(payload.subarray(10)));
        return {
          type: "syn_stream",
          streamId,
          fin: (flags & FLAG_FIN) !== 0,
          unidirectional: (flags & FLAG_UNIDIRECTIONAL) !== 0,
          headers,
        };
      }
      case SYN_REPLY:
      case HEADERS:
        // Not expected from a client, but their blocks are part of the compression stream.
        need(4);
        decodeHeaderBlock(this.headers.inflate(payload.subarray(4)));
        return { type: "other", frameType: type };
      case RST_STREAM:
        need(8);
        return {
          type: "rst_stream",
          streamId: payload.readUInt32BE(0) & 0x7fffffff,
          status: payload.readUInt32BE(4),
        };
      case PING:
        need(4);
        return { type: "ping", id: payload.readUInt32BE(0) };
      case GOAWAY:
        need(8);
        return {
          type: "goaway",
          lastStreamId: payload.readUInt32BE(0) & 0x7fffffff,
          status: payload.readUInt32BE(4),
        };
      default:
        return { type: "other", frameType: type };
    }
  }
}

/** Frames to bytes; one per connection (it holds our side's header compression). */
export class FrameEncoder {
  private readonly headers = new HeaderDeflater();

  synReply(streamId: number, headers: Record<string, string | string[]> = {}, fin = false): Buffer {
    const id = Buffer.alloc(4);
    id.writeUInt32BE(streamId & 0x7fffffff);
    return control(
      SYN_REPLY,
      fin ? FLAG_FIN : 0,
      Buffer.concat([id, this.headers.deflate(encodeHeaderBlock(headers))]),
    );
  }

  /** Data frames (a frame holds at most 16 MiB - 1; output is split well below that). */
  data(streamId: number, data: Buffer, fin = false): Buffer {
    const frames: Buffer[] = [];
    const max = 1 << 16;
    for (let at = 0; at < data.length || frames.length === 0; at += max) {
      const chunk = data.subarray(at, at + max);
      const last = at + max >= data.length;
      const head = Buffer.alloc(8);
      head.writeUInt32BE(streamId & 0x7fffffff, 0);
      head.writeUInt32BE((((fin && last ? FLAG_FIN : 0) << 24) | chunk.length) >>> 0, 4);
      frames.push(head, chunk);
    }
    return Buffer.concat(frames);
  }

  rstStream(streamId: number, status: number): Buffer {
    const payload = Buffer.alloc(8);
    payload.writeUInt32BE(streamId & 0x7fffffff, 0);
    payload.writeUInt32BE(status, 4);
    return control(RST_STREAM, 0, payload);
  }

  ping(id: number): Buffer {
    const payload = Buffer.alloc(4);
    payload.writeUInt32BE(id >>> 0);
    return control(PING, 0, payload);
  }

  goAway(lastStreamId: number, status = GOAWAY_OK): Buffer {
    const payload = Buffer.alloc(8);
    payload.writeUInt32BE(lastStreamId & 0x7fffffff, 0);
    payload.writeUInt32BE(status, 4);
    return control(GOAWAY, 0, payload);
  }
}

function control(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(((flags << 24) | payload.length) >>> 0, 4);
  return Buffer.concat([head, payload]);
}
