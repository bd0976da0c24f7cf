/**
 * A DOCX is a zip, and a zip can be a bomb: a few hundred kilobytes that inflate to
 * gigabytes. Before a document library sees the archive, every entry is inflated here with
 * a hard output ceiling (the declared sizes are not trusted), and the entry count is capped.
 */
import { inflateRawSync } from 'node:zlib';

export class ZipRejected extends Error {}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

export interface ZipLimits {
  maxEntries: number;
  /** Ceiling on the sum of all inflated entries, in bytes. */
  maxTotalBytes: number;
}

/** Throws ZipRejected when the archive is malformed or inflates beyond the limits. */
export function assertSafeZip(buffer: Buffer, limits: ZipLimits): void {
  const searchFrom = Math.max(0, buffer.length - 65_557);
  let eocd = -1;
  for (let i = buffer.length - 22; i >= searchFrom; i--) {
    if (buffer.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipRejected('The file is not a valid .docx document');
  const entries = buffer.readUInt16LE(eocd + 10);
  if (entries > limits.maxEntries) throw new ZipRejected('The .docx document has too many parts');
  let offset = buffer.readUInt32LE(eocd + 16);
  let budget = limits.maxTotalBytes;
  for (let n = 0; n < entries; n++) {
    if (offset + 46 > buffer.length || buffer.readUInt32LE(offset) !== CENTRAL) throw new ZipRejected('The file is not a valid .docx document');
    const method = buffer.readUInt16LE(offset + 10);
    const compressedSize = buffer.readUInt32LE(offset + 20);
    const nameLength = buffer.readUInt16LE(offset + 28);
    const extraLength = buffer.readUInt16LE(offset + 30);
    const commentLength = buffer.readUInt16LE(offset + 32);
    const localOffset = buffer.readUInt32LE(offset + 42);
    offset += 46 + nameLength + extraLength + commentLength;
    if (localOffset + 30 > buffer.length || buffer.readUInt32LE(localOffset) !== LOCAL) throw new ZipRejected('The file is not a valid .docx document');
    const dataStart = localOffset + 30 + buffer.readUInt16LE(localOffset + 26) + buffer.readUInt16LE(localOffset + 28);
    const data = buffer.subarray(dataStart, dataStart + compressedSize);
    let inflated: number;
    if (method === 0) inflated = data.length;
    else if (method === 8) {
      try {
        inflated = inflateRawSync(data, { maxOutputLength: Math.max(1, budget) }).length;
      } catch (error) {
        if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) {
          throw new ZipRejected('The .docx document expands beyond the allowed size');
        }
        throw new ZipRejected('The file is not a valid .docx document');
      }
    } else throw new ZipRejected('The .docx document uses an unsupported compression');
    budget -= inflated;
    if (budget < 0) throw new ZipRejected('The .docx document expands beyond the allowed size');
  }
}
