/** PDFs with one compressed content stream, for the inflation limit's tests. */
import { deflateSync } from 'node:zlib';

/**
 * A one-page PDF whose content stream is `content`, deflated when `filter` names FlateDecode;
 * `dictionary` adds entries to the stream's dictionary (e.g. ` /Subtype /Image`).
 */
export function pdfWithStream(content: Buffer, options: { filter?: string; dictionary?: string } = {}): Buffer {
  const filter = options.filter ?? '/FlateDecode';
  const data = filter.includes('Flate') ? deflateSync(content) : content;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>',
    `<< /Length ${data.length} /Filter ${filter}${options.dictionary ?? ''} >>\nstream\n${data.toString('latin1')}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let body = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((object, i) => {
    offsets.push(body.length);
    body += `${i + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = body.length;
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

/** Text operators drawing `lines` short lines: page content that compresses well. */
export const textOperators = (lines: number) =>
  Buffer.from(Array.from({ length: lines }, (_, i) => `BT /F1 12 Tf 50 ${800 - (i % 50) * 14} Td (Line ${i}) Tj ET`).join('\n'), 'latin1');
