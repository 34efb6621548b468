// The SPDY/3 codec against zlib itself: the peer's header blocks as a compressor with the dictionary
// and a sync flush per block writes them (as Go's spdystream does), and ours read back by a zlib
// reader. The real peer, kubectl's spdystream, is in exec-tty.test.ts.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as zlib from "node:zlib";
import {
  adler32,
  decodeHeaderBlock,
  encodeHeaderBlock,
  FLAG_FIN,
  type Frame,
  FrameDecoder,
  FrameEncoder,
  HEADER_DICTIONARY,
  SpdyError,
} from "./spdy.ts";

/** A client's side: one compressor for the connection, a sync flush after each block. */
function clientCompressor() {
  const deflate = zlib.createDeflate({ dictionary: HEADER_DICTIONARY, level: 9 });
  const chunks: Buffer[] = [];
  deflate.on("data", (c: Buffer) => chunks.push(c));
  return (block: Buffer) =>
    new Promise<Buffer>((resolve) => {
      deflate.write(block);
      deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve(Buffer.concat(chunks.splice(0))));
    });
}

function control(type: number, flags: number, payload: Buffer, version = 3): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | version, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(((flags << 24) | payload.length) >>> 0, 4);
  return Buffer.concat([head, payload]);
}

function synStream(id: number, compressed: Buffer, flags = 0): Buffer {
  const head = Buffer.alloc(10);
  head.writeUInt32BE(id, 0);
  return control(1, flags, Buffer.concat([head, compressed]));
}

function u32s(...values: number[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  for (const [i, v] of values.entries()) b.writeUInt32BE(v, 4 * i);
  return b;
}

describe("SPDY/3 codec", () => {
  test("the header dictionary is the spec's (its zlib DICTID)", () => {
    assert.equal(HEADER_DICTIONARY.length, 1423);
    assert.equal(adler32(HEADER_DICTIONARY), 0xe3c6a7c2);
  });

  test("SYN_STREAMs of one connection share the peer's compression context", async () => {
    const compress = clientCompressor();
    const decoder = new FrameDecoder();
    const frames: Frame[] = [];
    for (const [id, type] of [
      [1, "error"],
      [3, "stdin"],
      [5, "stdout"],
    ] as const) {
      const block = await compress(encodeHeaderBlock({ streamType: type }));
      frames.push(...decoder.push(synStream(id, block, id === 3 ? FLAG_FIN : 0)));
    }
    assert.deepEqual(
      frames.map((f) => f.type === "syn_stream" && [f.streamId, f.headers.get("streamtype"), f.fin]),
      [
        [1, ["error"], false],
        [3, ["stdin"], true],
        [5, ["stdout"], false],
      ],
    );
  });

  test("frames split across reads and several in one read", () => {
    const encoder = new FrameEncoder();
    const bytes = Buffer.concat([
      encoder.data(3, Buffer.from("hello")),
      control(6, 0, u32s(7)),
      control(3, 0, u32s(5, 5)),
      control(7, 0, u32s(9, 0)),
      control(4, 0, u32s(0)), // SETTINGS, nothing to do
      encoder.data(3, Buffer.alloc(0), true),
    ]);
    const decoder = new FrameDecoder();
    const frames = [
      ...decoder.push(bytes.subarray(0, 3)),
      ...decoder.push(bytes.subarray(3, 17)),
      ...decoder.push(bytes.subarray(17)),
    ];
    assert.deepEqual(frames, [
      { type: "data", streamId: 3, fin: false, data: Buffer.from("hello") },
      { type: "ping", id: 7 },
      { type: "rst_stream", streamId: 5, status: 5 },
      { type: "goaway", lastStreamId: 9, status: 0 },
      { type: "other", frameType: 4 },
      { type: "data", streamId: 3, fin: true, data: Buffer.alloc(0) },
    ]);
  });

  test("our SYN_REPLYs: one zlib stream naming the dictionary, each block sync-flushed", () => {
    const encoder = new FrameEncoder();
    const replies = [encoder.synReply(1), encoder.synReply(3, { a: ["x", "y"] }, true)];
    assert.deepEqual(
      replies.map((r) => [r.readUInt16BE(0), r.readUInt16BE(2), r.readUInt8(4), r.readUInt32BE(8)]),
      [
        [0x8003, 2, 0, 1],
        [0x8003, 2, FLAG_FIN, 3],
      ],
    );
    const blocks = replies.map((r) => r.subarray(12));
    // Only at a sync flush does a zlib reader (Go's flate) hand out a block without reading on.
    for (const b of blocks) assert.deepEqual([...b.subarray(-5)], [0, 0, 0, 0xff, 0xff]);
    const inflated = zlib.inflateSync(Buffer.concat(blocks), {
      dictionary: HEADER_DICTIONARY,
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    });
    const first = decodeHeaderBlock(inflated.subarray(0, 4));
    const second = decodeHeaderBlock(inflated.subarray(4));
    assert.deepEqual([...first], []);
    assert.deepEqual([...second], [["a", ["x", "y"]]]);
  });

  test("data frames: at most 64 KiB each, FIN on the last", () => {
    const frames = new FrameDecoder().push(new FrameEncoder().data(9, Buffer.alloc(150_000, 1), true));
    assert.deepEqual(
      frames.map((f) => f.type === "data" && [f.streamId, f.data.length, f.fin]),
      [
        [9, 65536, false],
        [9, 65536, false],
        [9, 18928, true],
      ],
    );
  });

  test("protocol errors", async () => {
    assert.throws(() => new FrameDecoder().push(control(6, 0, u32s(1), 2)), SpdyError);
    assert.throws(() => new FrameDecoder().push(control(6, 0, Buffer.alloc(2))), SpdyError);
    assert.throws(() => new FrameDecoder().push(synStream(1, Buffer.from("not zlib at all"))), SpdyError);
    const block = await clientCompressor()(Buffer.from([0, 0, 0, 1, 0, 0, 0, 9]));
    assert.throws(() => new FrameDecoder().push(synStream(1, block)), /truncated header block/);
  });
});
