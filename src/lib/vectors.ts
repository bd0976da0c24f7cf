/** Float32 vectors as stored in memory_chunks.vector: little-endian IEEE 754, 4 bytes per value. */
import { endianness } from 'node:os';

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

export function vectorToBytes(vector: Float32Array): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(vector.length * 4);
  if (LITTLE_ENDIAN_HOST) {
    bytes.set(new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength));
  } else {
    const view = new DataView(bytes.buffer);
    vector.forEach((v, i) => view.setFloat32(i * 4, v, true));
  }
  return bytes;
}

export function bytesToVector(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(Math.floor(bytes.byteLength / 4));
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(out.buffer).set(bytes.subarray(0, out.length * 4));
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  }
  return out;
}

/** The API's `embedding` field: the stored vector rounded to 4 decimals. */
export const roundVector = (vector: Float32Array): number[] => Array.from(vector, (v) => Math.round(v * 10_000) / 10_000);
