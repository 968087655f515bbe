import zlib from "node:zlib";

/**
 * CRC-32 (the zip and PNG checksum), continuing from `value` when a file is hashed in parts.
 * `zlib.crc32` is native and exists from Node 20.15; engines allows 20.9, so fall back to a table.
 */
export const crc32: (data: Buffer, value?: number) => number =
  (zlib as unknown as { crc32?: (d: Buffer, v?: number) => number }).crc32 ?? tableCrc32;

let table: Uint32Array | undefined;
function tableCrc32(data: Buffer, value = 0): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = ~value >>> 0;
  for (const byte of data) crc = table[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}
