/**
 * A DOCX is a zip, and a zip can be a bomb: a few hundred kilobytes that inflate to
 * gigabytes. Before a document library sees the archive, every entry is inflated here with
 * a hard output ceiling (the declared sizes are not trusted), and the entry count is capped.
 * Each inflated entry is handed to `inspect`, so its content can be checked (markup limits)
 * without inflating it twice.
 */
import { inflateRawSync } from 'node:zlib';
import { DocumentRejected, expandsTooMuch, tooManyParts } from './document-limits.js';

const INVALID = 'The file is not a valid .docx document';
const invalid = () => new DocumentRejected(INVALID);

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

export interface ZipLimits {
  maxEntries: number;
  /** Ceiling on the sum of all inflated entries, in bytes. */
  maxTotalBytes: number;
}

/**
 * Throws DocumentRejected when the archive is malformed (400), has too many entries (422) or
 * inflates beyond the limit (413); otherwise calls `inspect` with each entry's name and content.
 */
/** Where the end-of-central-directory record starts (it ends the archive, after at most a 64 KB comment); -1 when there is none. */
function endOfCentralDirectory(buffer: Buffer): number {
  const searchFrom = Math.max(0, buffer.length - 65_557);
  for (let i = buffer.length - 22; i >= searchFrom; i--) {
    if (buffer.readUInt32LE(i) === EOCD) return i;
  }
  return -1;
}

/**
 * The names of the first `maxEntries` entries, read from the central directory alone (nothing
 * is inflated); null when the bytes are not a readable zip.
 */
export function zipEntryNames(buffer: Buffer, maxEntries: number): string[] | null {
  const eocd = endOfCentralDirectory(buffer);
  if (eocd < 0) return null;
  const names: string[] = [];
  let offset = buffer.readUInt32LE(eocd + 16);
  for (let n = Math.min(buffer.readUInt16LE(eocd + 10), maxEntries); n > 0; n--) {
    if (offset + 46 > buffer.length || buffer.readUInt32LE(offset) !== CENTRAL) return null;
    const nameLength = buffer.readUInt16LE(offset + 28);
    names.push(buffer.toString('utf8', offset + 46, Math.min(buffer.length, offset + 46 + nameLength)));
    offset += 46 + nameLength + buffer.readUInt16LE(offset + 30) + buffer.readUInt16LE(offset + 32);
  }
  return names;
}

export function assertSafeZip(buffer: Buffer, limits: ZipLimits, inspect?: (name: string, content: Buffer) => void): void {
  const eocd = endOfCentralDirectory(buffer);
  if (eocd < 0) throw invalid();
  const entries = buffer.readUInt16LE(eocd + 10);
  if (entries > limits.maxEntries) throw tooManyParts(limits.maxEntries);
  let offset = buffer.readUInt32LE(eocd + 16);
  let budget = limits.maxTotalBytes;
  for (let n = 0; n < entries; n++) {
    if (offset + 46 > buffer.length || buffer.readUInt32LE(offset) !== CENTRAL) throw invalid();
    const method = buffer.readUInt16LE(offset + 10);
    const compressedSize = buffer.readUInt32LE(offset + 20);
    const nameLength = buffer.readUInt16LE(offset + 28);
    const extraLength = buffer.readUInt16LE(offset + 30);
    const commentLength = buffer.readUInt16LE(offset + 32);
    const localOffset = buffer.readUInt32LE(offset + 42);
    const name = buffer.toString('utf8', offset + 46, offset + 46 + nameLength);
    offset += 46 + nameLength + extraLength + commentLength;
    if (localOffset + 30 > buffer.length || buffer.readUInt32LE(localOffset) !== LOCAL) throw invalid();
    const dataStart = localOffset + 30 + buffer.readUInt16LE(localOffset + 26) + buffer.readUInt16LE(localOffset + 28);
    const data = buffer.subarray(dataStart, dataStart + compressedSize);
    let inflated: Buffer;
    if (method === 0) inflated = data;
    else if (method === 8) {
      try {
        inflated = inflateRawSync(data, { maxOutputLength: Math.max(1, budget) });
      } catch (error) {
        if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) throw expandsTooMuch(limits.maxTotalBytes);
        throw invalid();
      }
    } else throw new DocumentRejected('The .docx document uses an unsupported compression');
    budget -= inflated.length;
    if (budget < 0) throw expandsTooMuch(limits.maxTotalBytes);
    inspect?.(name, inflated);
  }
}
