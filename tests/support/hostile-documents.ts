/**
 * Documents that attack the parsers, and large legitimate ones that must still import.
 * Every builder is deterministic and runs in-process (node:zlib only, no external tools),
 * so a test sends the same bytes on every run.
 *
 * Attacks (the sizes are those of the bytes sent):
 *   wordBombDocx(47 MiB)      a DOCX whose word/document.xml is 47 MiB of one-letter paragraphs, ≈140 KiB
 *                             zipped (20 MiB: ≈60 KiB); mammoth builds a tree of every element
 *   nestedTagsHtml(300_000)   `<b>` nested 300,000 deep, ≈879 KiB (1,000,000: ≈2.9 MiB)
 *   nestedStacksPage(…)       a web page of `<div>` stacks for URL import, each closed, each hundreds
 *                             or thousands deep (Readability walks every stack's subtree for each
 *                             of its nodes, on each of its passes)
 *   rtfInfoBomb(100_000)      `{\rtf1 ` then `{\info ` ×100,000, ≈684 KiB, unclosed groups
 *   pdfStreamBomb(84 MiB)     a one-page PDF whose single FlateDecode content stream inflates to
 *                             84 MiB of text-showing operators, ≈250 KiB (≈500 KiB behind ASCIIHexDecode)
 *
 * Legitimate, close to the 10 MB upload cap:
 *   illustratedReportPdf()    a 120-page report: compressed text pages and full-page RGB pictures
 *   illustratedReportDocx()   the same report as WordprocessingML with PNG pictures in word/media
 */
import { crc32, deflateSync } from 'node:zlib';
import { buildZip } from './documents.js';
import { mulberry32 } from './random.js';

export const KiB = 1024;
export const MiB = 1024 * 1024;

/** The upload cap of the file-import route. */
export const UPLOAD_CAP_BYTES = 10 * MiB;

/** A string of `unit` repeated until it is at least `bytes` long (ASCII units: one byte per character). */
const fill = (unit: string, bytes: number) => unit.repeat(Math.ceil(bytes / unit.length));

// ---------------------------------------------------------------------------------------------
// Attacks

const WORD_PARAGRAPH = '<w:p><w:r><w:t>a</w:t></w:r></w:p>';
const WORD_ROOT_OPEN = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>';
const WORD_ROOT_CLOSE = '</w:body></w:document>';

const CONTENT_TYPES = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Default Extension="png" ContentType="image/png"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`;
const ROOT_RELS = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`;

/** A DOCX whose document.xml is `xmlBytes` of `<w:p><w:r><w:t>a</w:t></w:r></w:p>`: tiny zipped, huge as a tree. */
export function wordBombDocx(xmlBytes: number): Buffer {
  const xml = WORD_ROOT_OPEN + fill(WORD_PARAGRAPH, xmlBytes - WORD_ROOT_OPEN.length - WORD_ROOT_CLOSE.length) + WORD_ROOT_CLOSE;
  return buildZip([
    ['[Content_Types].xml', CONTENT_TYPES],
    ['_rels/.rels', ROOT_RELS],
    ['word/document.xml', xml],
  ]);
}

/** `<b>` opened `depth` times with a word at the bottom, never closed (as the attack sends it). */
export function nestedTagsHtml(depth: number, tag = 'b'): Buffer {
  return Buffer.from(`${`<${tag}>`.repeat(depth)}deep`, 'latin1');
}

/**
 * A web page of `<div>` stacks `depth` deep, each closed and carrying a line of text, repeated
 * until the page reaches `bytes`. Stacks of a few thousand stay within linkedom's recursion
 * limits, while Readability's work grows with the square of each stack's depth.
 */
export function nestedStacksPage(bytes: number, depth: number): Buffer {
  const stack = (i: number) => `${'<div>'.repeat(depth)}Stack ${i} of a page of nested blocks.${'</div>'.repeat(depth)}\n`;
  const head = '<!doctype html><html><head><meta charset="utf-8"><title>Nested blocks</title></head><body>\n';
  const tail = '</body></html>\n';
  const parts = [head];
  let length = head.length + tail.length;
  for (let i = 0; length < bytes; i++) {
    const s = stack(i);
    parts.push(s);
    length += s.length;
  }
  parts.push(tail);
  return Buffer.from(parts.join(''), 'latin1');
}

/** `{\rtf1 ` followed by `groups` unclosed `{\info ` groups. */
export function rtfInfoBomb(groups: number): Buffer {
  return Buffer.from(`{\\rtf1 ${'{\\info '.repeat(groups)}`, 'latin1');
}

/** A PDF made of hand-written objects (strings, or a dictionary plus raw stream bytes), numbered from 1, with a correct xref table. */
function assemblePdf(objects: (string | { dict: string; stream: Buffer })[]): Buffer {
  const chunks: Buffer[] = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let length = chunks[0]!.length;
  const offsets: number[] = [];
  const push = (b: Buffer) => {
    chunks.push(b);
    length += b.length;
  };
  objects.forEach((object, i) => {
    offsets.push(length);
    if (typeof object === 'string') push(Buffer.from(`${i + 1} 0 obj\n${object}\nendobj\n`, 'latin1'));
    else {
      push(Buffer.from(`${i + 1} 0 obj\n${object.dict.replace('>>', ` /Length ${object.stream.length} >>`)}\nstream\n`, 'latin1'));
      push(object.stream);
      push(Buffer.from('\nendstream\nendobj\n', 'latin1'));
    }
  });
  const xref = `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  push(Buffer.from(`${xref}trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${length}\n%%EOF\n`, 'latin1'));
  return Buffer.concat(chunks);
}

/**
 * One page whose FlateDecode content stream inflates to `inflatedBytes` of `BT … (a) Tj ET`
 * operators. `hexFirst` wraps the compressed stream in ASCIIHexDecode (filters
 * [/ASCIIHexDecode /FlateDecode]): the same bomb, twice the size, behind another first filter.
 */
export function pdfStreamBomb(inflatedBytes: number, options: { hexFirst?: boolean } = {}): Buffer {
  const content = Buffer.from(fill('BT /F1 12 Tf 72 712 Td (a) Tj ET\n', inflatedBytes), 'latin1');
  const packed = deflateSync(content, { level: 9 });
  const stream = options.hexFirst
    ? { dict: '<< /Filter [/ASCIIHexDecode /FlateDecode] >>', stream: Buffer.from(`${packed.toString('hex')}>`, 'latin1') }
    : { dict: '<< /Filter /FlateDecode >>', stream: packed };
  return assemblePdf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>',
    stream,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ]);
}

// ---------------------------------------------------------------------------------------------
// Legitimate documents

const WORDS = (
  'the of and to in a is that for it as was with be by on not he this are or his from at which but have an they you were her ' +
  'tide turbine estuary current energy storage grid demand season winter summer reservoir pump hydro balance night output ' +
  'forecast measurement survey station coastal channel sediment corrosion maintenance blade rotor cable substation capacity ' +
  'model result analysis report figure table sample variation average peak record annual monthly study method design ' +
  'engineer operator council village harbour community cost budget contract schedule risk review appendix section chapter'
).split(' ');

/** Sentences of plausible prose, deterministic for a seed. */
export function prose(seed: number): () => string {
  const next = mulberry32(seed); // the same prose and pictures on every run
  const pick = () => WORDS[Math.floor(next() * WORDS.length)]!;
  return () => {
    const n = 8 + Math.floor(next() * 14);
    const words = Array.from({ length: n }, pick);
    words[0] = words[0]!.charAt(0).toUpperCase() + words[0]!.slice(1);
    return `${words.join(' ')}.`;
  };
}

/** Noise pixels (the least compressible picture), as a camera photo is after its own compression. */
function noise(bytes: number, seed: number): Buffer {
  const next = mulberry32(seed); // the same prose and pictures on every run
  const out = Buffer.alloc(bytes);
  for (let i = 0; i + 4 <= bytes; i += 4) out.writeUInt32LE(Math.floor(next() * 4294967296), i);
  return out;
}

/** A PNG picture: RGB 8-bit, rows unfiltered, noise pixels. */
export function noisePng(width: number, height: number, seed: number): Buffer {
  const pixels = noise(height * (width * 3 + 1), seed);
  for (let row = 0; row < height; row++) pixels[row * (width * 3 + 1)] = 0; // filter type None
  const chunk = (type: string, data: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // bit depth 8, truecolour, deflate, no filter method, no interlace
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(pixels, { level: 1 })), chunk('IEND', Buffer.alloc(0))]);
}

export interface LegitimateDocument {
  bytes: Buffer;
  /** Sentences that must appear in the imported text (from the first, a middle and the last page). */
  samples: string[];
  pages: number;
}

export interface ReportShape {
  pages: number;
  linesPerPage: number;
  pictures: number;
  /** Size the pictures so the whole document is about this many bytes (under the upload cap). */
  targetBytes: number;
}

const REPORT: ReportShape = { pages: 120, linesPerPage: 40, pictures: 6, targetBytes: Math.floor(UPLOAD_CAP_BYTES * 0.97) };

/** The report's text: per page, a heading and lines of prose (about 85 characters each). */
function reportText(shape: ReportShape, seed: number): string[][] {
  const sentence = prose(seed);
  return Array.from({ length: shape.pages }, (_, p) => {
    const lines = [`Chapter ${Math.floor(p / 10) + 1}, page ${p + 1}: tidal energy field report`];
    let line = '';
    while (lines.length < shape.linesPerPage) {
      const s = sentence();
      if (line.length + s.length > 85 && line) {
        lines.push(line);
        line = '';
      }
      line = line ? `${line} ${s}` : s;
    }
    return lines;
  });
}

function samplesOf(text: string[][]): string[] {
  return [text[0]![2]!, text[Math.floor(text.length / 2)]![5]!, text.at(-1)!.at(-1)!];
}

const escapePdf = (s: string) => s.replace(/[\\()]/g, (c) => `\\${c}`);

/**
 * A report PDF close to the upload cap: `pages` pages of compressed text, and `pictures`
 * full-page RGB pictures (FlateDecode, noise, so they keep their size) on their own pages.
 */
export function illustratedReportPdf(shape: Partial<ReportShape> = {}, seed = 7): LegitimateDocument {
  const s = { ...REPORT, ...shape };
  const text = reportText(s, seed);
  // 1 catalog, 2 pages, 3 font; then text pages (page + content); then pictures (page + content + image).
  const objects: (string | { dict: string; stream: Buffer })[] = [];
  const kids: number[] = [];
  objects[0] = '<< /Type /Catalog /Pages 2 0 R >>';
  objects[1] = '<< /Type /Pages /Kids [] /Count 0 >>'; // filled in once the pages are numbered
  objects[2] = '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>';
  const add = (o: string | { dict: string; stream: Buffer }) => objects.push(o); // returns the new object's number
  for (const lines of text) {
    const body = ['BT', '/F1 10 Tf', '13 TL', '50 760 Td', ...lines.map((l) => `(${escapePdf(l)}) Tj T*`), 'ET'].join('\n');
    const content = add({ dict: '<< /Filter /FlateDecode >>', stream: deflateSync(Buffer.from(body, 'latin1')) });
    kids.push(add(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents ${content} 0 R >>`));
  }
  const textBytes = assemblePdf(objects).length;
  const perPicture = Math.max(3 * 64 * 64, Math.floor((s.targetBytes - textBytes - s.pictures * 600) / s.pictures));
  const width = 1200;
  const height = Math.floor(perPicture / (width * 3));
  for (let i = 0; i < s.pictures; i++) {
    const pixels = noise(width * height * 3, seed * 1000 + i);
    const image = add({ dict: `<< /Type /XObject /Subtype /Image /Width ${width} /Height ${height} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode >>`, stream: deflateSync(pixels, { level: 1 }) });
    const draw = `q 512 0 0 ${Math.round((512 * height) / width)} 50 150 cm /Im${i} Do Q\nBT /F1 10 Tf 50 120 Td (Figure ${i + 1}: survey photograph) Tj ET`;
    const content = add({ dict: '<< >>', stream: Buffer.from(draw, 'latin1') });
    kids.push(add(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> /XObject << /Im${i} ${image} 0 R >> >> /Contents ${content} 0 R >>`));
  }
  objects[1] = `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${kids.length} >>`;
  return { bytes: assemblePdf(objects), samples: samplesOf(text), pages: kids.length };
}

const xmlEscape = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

/**
 * The same report as a DOCX close to the upload cap: headings and paragraphs in
 * word/document.xml, `pictures` PNG photographs in word/media drawn inline after every
 * twentieth page.
 */
export function illustratedReportDocx(shape: Partial<ReportShape> = {}, seed = 11): LegitimateDocument {
  const s = { ...REPORT, ...shape };
  const text = reportText(s, seed);
  const W = 'http://schemas.openxmlformats.org/wordprocessingml/2006/main';
  const paragraph = (t: string, style?: string) =>
    `<w:p>${style ? `<w:pPr><w:pStyle w:val="${style}"/></w:pPr>` : ''}<w:r><w:rPr><w:lang w:val="en-GB"/></w:rPr><w:t xml:space="preserve">${xmlEscape(t)}</w:t></w:r></w:p>`;
  const picture = (i: number) =>
    `<w:p><w:r><w:drawing><wp:inline><wp:extent cx="5486400" cy="3657600"/><wp:docPr id="${i + 1}" name="Picture ${i + 1}"/>` +
    `<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:pic><pic:nvPicPr><pic:cNvPr id="${i + 1}" name="photo${i + 1}.png"/><pic:cNvPicPr/></pic:nvPicPr>` +
    `<pic:blipFill><a:blip r:embed="rIdImg${i + 1}"/></pic:blipFill><pic:spPr/></pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r></w:p>`;
  const perPictureEvery = Math.max(1, Math.floor(text.length / s.pictures));
  const body: string[] = [];
  text.forEach((lines, p) => {
    body.push(paragraph(lines[0]!, 'Heading2'));
    for (let i = 1; i < lines.length; i += 4) body.push(paragraph(lines.slice(i, i + 4).join(' ')));
    const pic = Math.floor(p / perPictureEvery);
    if ((p + 1) % perPictureEvery === 0 && pic < s.pictures) body.push(picture(pic));
  });
  const documentXml =
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="${W}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" ` +
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" ' +
    `xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"><w:body>${body.join('')}</w:body></w:document>`;
  const rels =
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
    Array.from({ length: s.pictures }, (_, i) => `<Relationship Id="rIdImg${i + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="media/photo${i + 1}.png"/>`).join('') +
    '</Relationships>';
  const textPart = buildZip([['word/document.xml', documentXml]]).length;
  const perPicture = Math.max(3 * 64 * 64, Math.floor((s.targetBytes - textPart - 4096) / s.pictures));
  const width = 1200;
  const height = Math.floor(perPicture / (width * 3 + 1)) - 1;
  const media: [string, Buffer][] = Array.from({ length: s.pictures }, (_, i) => [`word/media/photo${i + 1}.png`, noisePng(width, height, seed * 1000 + i)]);
  const bytes = buildZip([
    ['[Content_Types].xml', CONTENT_TYPES],
    ['_rels/.rels', ROOT_RELS],
    ['word/document.xml', documentXml],
    ['word/_rels/document.xml.rels', rels],
    ...media,
  ]);
  return { bytes, samples: samplesOf(text), pages: text.length };
}
