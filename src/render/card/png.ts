import zlib from "node:zlib";
import { crc32 } from "../../crc32.js";
import { type Canvas, rowBytes } from "./blend.js";

/**
 * A PNG written straight from the canvas, whose rows already are PNG scanlines (filter byte 0,
 * then RGB; see Canvas). node:zlib deflates them on libuv's thread pool in one trip, without a
 * copy of the pixels. Measured on real cards (2026-12-06, 2 cores): zlib level 3 spent 6.8 ms of CPU per card
 * against 9.7 for sharp's PNG at level 4, for files ~4 % larger; level 4 in node:zlib is lazy
 * matching and cost three times as much. sharp also copied the pixels into libvips first.
 * Same canvas, same bytes: zlib is deterministic for a given input and level.
 */
export const PNG_LEVEL = 3;

/**
 * node:zlib goes back and forth to its thread pool once per output chunk (16 KiB by default, ~10
 * trips for a story card); 256 KiB holds a whole card's IDAT in one.
 */
const OUTPUT_CHUNK = 256 * 1024;

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export async function writePng(canvas: Canvas, level = PNG_LEVEL): Promise<Buffer> {
  const { width, height, data } = canvas;
  if (data.length !== rowBytes(width) * height) {
    throw new Error(
      `canvas of ${width}×${height} has ${data.length} bytes, expected ${rowBytes(width) * height}`,
    );
  }
  const compressed = await deflate(data, level);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bits per channel
  header[9] = 2; // colour type: RGB
  // compression 0 (deflate), filter method 0, no interlace: already zero
  return Buffer.concat([
    SIGNATURE,
    chunk("IHDR", header),
    chunk("IDAT", compressed),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/**
 * The whole canvas in one write with Z_FINISH as the stream's flush mode: one trip to the thread
 * pool. zlib.deflate() makes two (the data, then an empty final write when the stream ends), and
 * on a loaded machine each trip waits for a core twice (worker, then the main thread again).
 * The stream is closed rather than ended, which would queue that empty write.
 */
function deflate(data: Buffer, level: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const engine = zlib.createDeflate({ level, chunkSize: OUTPUT_CHUNK, flush: zlib.constants.Z_FINISH });
    const chunks: Buffer[] = [];
    engine.on("data", (chunk: Buffer) => chunks.push(chunk));
    engine.once("error", reject);
    engine.write(data, (error) => {
      engine.close();
      if (error) reject(error);
      else resolve(Buffer.concat(chunks));
    });
  });
}

/** length, type, data, CRC-32 of type and data. */
function chunk(type: string, body: Buffer): Buffer {
  const out = Buffer.alloc(12 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.write(type, 4, "latin1");
  body.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + body.length)), 8 + body.length);
  return out;
}
