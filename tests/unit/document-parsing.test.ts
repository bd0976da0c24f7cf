/**
 * Parsing untrusted documents away from the request loop: the child-process pool (deadline,
 * bounded queue, memory cap, crashes, aborts, shutdown), and the limits checked before a
 * parser starts (markup elements and depth, DOCX and PDF inflation), and the linear RTF reader.
 */
import { existsSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parseHTML } from 'linkedom';
import { afterEach, describe, expect, it } from 'vitest';
import { ChildDied, JobFailed, JobTimedOut, PoolBusy, PoolClosed, ProcessPool, type ProcessPoolOptions } from '../../src/lib/process-pool.js';
import { DocumentRejected, type DocumentLimits } from '../../src/services/imports/document-limits.js';
import { extractFileText } from '../../src/services/imports/files.js';
import { scanMarkup } from '../../src/services/imports/markup-scan.js';
import { assertPdfInflationWithin } from '../../src/services/imports/pdf-guard.js';
import { rtfText } from '../../src/services/imports/rtf.js';
import { buildDocx, buildPdf, buildZip, documentXml } from '../support/documents.js';
import { pdfWithStream, textOperators } from '../support/pdf-streams.js';
import type { PoolTestJob } from '../support/pool-child.js';

const MB = 1024 * 1024;

describe('process pool', () => {
  const pools: ProcessPool<PoolTestJob, unknown>[] = [];
  const pool = (options: Partial<ProcessPoolOptions> = {}) => {
    const created = new ProcessPool<PoolTestJob, unknown>({
      entry: new URL('../support/pool-child.ts', import.meta.url),
      size: 1,
      queueLimit: 0,
      timeoutMs: 10_000,
      memoryMb: 64,
      ...options,
    });
    pools.push(created);
    return created;
  };
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.close()));
  });

  it('runs jobs in a child process it keeps for the next job', async () => {
    const p = pool();
    const echoed = (await p.run({ do: 'echo', value: { a: [1, 'two'], bytes: Buffer.from('hi') } })) as { a: unknown; bytes: Uint8Array };
    expect(echoed.a).toEqual([1, 'two']);
    expect(Buffer.from(echoed.bytes).toString()).toBe('hi');
    const first = await p.run({ do: 'pid' });
    expect(first).not.toBe(process.pid);
    expect(await p.run({ do: 'pid' })).toBe(first);
    await expect(p.run({ do: 'fail', message: 'bad input' })).rejects.toEqual(new JobFailed({ message: 'bad input' }));
    expect((await p.run({ do: 'pid' })) as number).toBe(first);
  });

  it('kills a job past its deadline and serves the next one from a fresh child', async () => {
    const p = pool();
    const before = await p.run({ do: 'pid' });
    const spin = p.run({ do: 'spin' }, { timeoutMs: 300 });
    await expect(spin).rejects.toBeInstanceOf(JobTimedOut);
    await expect(spin).rejects.toMatchObject({ timeoutMs: 300 });
    const after = await p.run({ do: 'pid' });
    expect(after).not.toBe(before);
    expect(p.stats()).toMatchObject({ children: 1, busy: 0, queued: 0 });
  });

  it('does not charge a child’s start-up to the job’s deadline', async () => {
    const p = pool();
    expect(await p.run({ do: 'slow-start', startMs: 600 }, { timeoutMs: 200 })).toEqual(expect.any(Number));
  });

  it('refuses a job at once when every child is busy and the queue is full; a queued job runs when a child frees', async () => {
    const p = pool({ size: 1, queueLimit: 1 });
    const spin = p.run({ do: 'spin' }, { timeoutMs: 1000 });
    await waitFor(() => p.stats().busy === 1);
    const queued = p.run({ do: 'echo', value: 'queued' }, { timeoutMs: 5000 });
    await waitFor(() => p.stats().queued === 1);
    await expect(p.run({ do: 'echo', value: 'refused' })).rejects.toBeInstanceOf(PoolBusy);
    await expect(spin).rejects.toBeInstanceOf(JobTimedOut);
    expect(await queued).toBe('queued');
  });

  it('refuses a queued job as busy when no child frees within its deadline', async () => {
    const p = pool({ size: 1, queueLimit: 4 });
    const spin = p.run({ do: 'spin' }, { timeoutMs: 3000 });
    await waitFor(() => p.stats().busy === 1);
    await expect(p.run({ do: 'echo', value: 'late' }, { timeoutMs: 200 })).rejects.toBeInstanceOf(PoolBusy);
    expect(p.stats().queued).toBe(0);
    await expect(spin).rejects.toBeInstanceOf(JobTimedOut);
  });

  it('a child past its heap cap dies alone, reported as out of memory; the pool goes on', async () => {
    const crashes: boolean[] = [];
    const p = pool({ memoryMb: 32, onCrash: ({ outOfMemory }) => crashes.push(outOfMemory) });
    const allocate = p.run({ do: 'allocate' }, { timeoutMs: 30_000 });
    await expect(allocate).rejects.toBeInstanceOf(ChildDied);
    await expect(allocate).rejects.toMatchObject({ outOfMemory: true });
    expect(crashes).toEqual([true]);
    expect(await p.run({ do: 'echo', value: 'still here' })).toBe('still here');
  });

  it('a child that exits mid-job is a crash, not out of memory', async () => {
    const p = pool();
    await expect(p.run({ do: 'exit', code: 3 })).rejects.toMatchObject({ outOfMemory: false });
    expect(await p.run({ do: 'echo', value: 1 })).toBe(1);
  });

  it('an abort gives up a running job (its child killed) and a queued one', async () => {
    const p = pool({ size: 1, queueLimit: 1 });
    const controller = new AbortController();
    const running = p.run({ do: 'spin' }, { signal: controller.signal });
    await waitFor(() => p.stats().busy === 1);
    const queued = p.run({ do: 'echo', value: 'never' }, { signal: controller.signal });
    controller.abort(new Error('deadline'));
    await expect(running).rejects.toThrow('deadline');
    await expect(queued).rejects.toThrow('deadline');
    expect(await p.run({ do: 'echo', value: 'next' })).toBe('next');
  });

  it('start() resolves once the warm children are forked: they serve the first jobs and stay when idle', async () => {
    const p = pool({ size: 2, warm: 2, queueLimit: 2, idleMs: 100 });
    await p.start();
    expect(p.stats()).toEqual({ children: 2, busy: 0, queued: 0 });
    // Forked by the time start() resolves (a server starts its pool before it listens).
    const warm = await p.pids();
    expect(warm.filter((pid) => existsSync(`/proc/${pid}`))).toHaveLength(2);
    const pids = await Promise.all([p.run({ do: 'pid' }), p.run({ do: 'pid' })]);
    expect([...pids].sort()).toEqual([...warm].sort());
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(p.stats().children).toBe(2);
    expect(pids).toContain(await p.run({ do: 'pid' }));
  });

  it('children are forked by a spawner process, not by the pool’s own; if the spawner dies, its children are killed, their jobs fail as crashes, and a new spawner serves on', async () => {
    const p = pool();
    const spawner = (await p.run({ do: 'parent' })) as number;
    expect(spawner).not.toBe(process.pid);
    const spin = p.run({ do: 'spin' });
    await waitFor(() => p.stats().busy === 1);
    const [spinning] = readFileSync(`/proc/${spawner}/task/${spawner}/children`, 'utf8').trim().split(/\s+/).map(Number);
    expect(spinning).toBeGreaterThan(0);
    process.kill(spawner, 'SIGKILL');
    await expect(spin).rejects.toMatchObject({ outOfMemory: false });
    // The spinning child, which would never notice its parent gone, is killed too.
    await waitFor(() => !existsSync(`/proc/${spinning}`) || readFileSync(`/proc/${spinning}/stat`, 'utf8').split(') ')[1]!.startsWith('Z'));
    const next = (await p.run({ do: 'parent' })) as number;
    expect([process.pid, spawner]).not.toContain(next);
  });

  it('a child its jobs grew past retireAfterGrowthMb is retired once the pool is idle; a warm one is replaced', async () => {
    const p = pool({ size: 2, warm: 2, queueLimit: 1, retireAfterGrowthMb: 32 });
    await p.start();
    const small = await p.run({ do: 'grow', mb: 4 });
    expect(await p.run({ do: 'pid' })).toBe(small);
    // While others work, a grown child stays and serves the jobs that come: no fork in the middle of the work.
    const busy = p.run({ do: 'grow', mb: 1, holdMs: 2000 });
    await waitFor(() => p.stats().busy === 1);
    const grown = await p.run({ do: 'grow', mb: 64 });
    expect(await p.run({ do: 'pid' })).toBe(grown);
    const other = await busy;
    expect(p.stats().children).toBe(1); // idle now: the grown one is retired
    expect(await p.run({ do: 'pid' })).toBe(other);
    await waitFor(() => p.stats().children === 2);
    const pids = await Promise.all([p.run({ do: 'grow', mb: 0, holdMs: 200 }), p.run({ do: 'grow', mb: 0, holdMs: 200 })]);
    expect(pids).toContain(other);
    expect(pids).not.toContain(grown);
  });

  it('idle children exit; close() fails running and queued jobs and refuses new ones', async () => {
    const idle = pool({ idleMs: 100 });
    await idle.run({ do: 'pid' });
    await waitFor(() => idle.stats().children === 0);
    const p = pool({ size: 1, queueLimit: 1 });
    const running = p.run({ do: 'spin' });
    await waitFor(() => p.stats().busy === 1);
    const queued = p.run({ do: 'echo', value: 'queued' });
    const failures = [expect(running).rejects.toBeInstanceOf(PoolClosed), expect(queued).rejects.toBeInstanceOf(PoolClosed)];
    await p.close();
    await Promise.all(failures);
    await expect(p.run({ do: 'pid' })).rejects.toBeInstanceOf(PoolClosed);
    expect(p.stats()).toEqual({ children: 0, busy: 0, queued: 0 });
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 20_000) {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const LIMITS = { maxElements: 1000, maxDepth: 32 };
const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (error instanceof DocumentRejected) return { status: error.status, message: error.message };
    throw error;
  }
  return null;
};

describe('markup limits', () => {
  it('refuses markup nested deeper than the limit or with more elements, naming the limit', () => {
    expect(refusal(() => scanMarkup('<b>'.repeat(33), 'html', LIMITS))).toEqual({ status: 422, message: 'The document is too complex to import (nested more than 32 levels deep)' });
    expect(refusal(() => scanMarkup('<b>'.repeat(32), 'html', LIMITS))).toBeNull();
    expect(refusal(() => scanMarkup('<i></i>'.repeat(1001), 'html', LIMITS))).toEqual({ status: 422, message: 'The document is too complex to import (more than 1000 elements)' });
    expect(refusal(() => scanMarkup('<i></i>'.repeat(1000), 'html', LIMITS))).toBeNull();
    // 300,000 nested tags stop at the limit: the scan never builds more than 33 levels.
    expect(refusal(() => scanMarkup('<b>'.repeat(300_000), 'html', { maxElements: 1_000_000, maxDepth: 256 }))?.status).toBe(422);
  });

  it('follows HTML tree rules: void elements, implied end tags, raw text, comments, self-closing only in svg', () => {
    const flat = [
      '<p>one<p>two'.repeat(100),
      '<ul>' + '<li>item'.repeat(100) + '</ul>',
      '<table>' + '<tr><td>a<td>b'.repeat(100) + '</table>',
      '<br><img src="x"><input>'.repeat(100),
      '<svg>' + '<path d="M0 0"/>'.repeat(100) + '</svg>',
      `<script>${'<b>'.repeat(100)}</script><style>${'<i>'.repeat(100)}</style>`,
      `<!-- ${'<b>'.repeat(100)} --><![CDATA[${'<b>'.repeat(100)}]]>`,
      `<a title="${'<b>'.repeat(100)}">x</a>`,
      '<div>'.repeat(10) + '</div>'.repeat(10) + '<div>'.repeat(10),
    ];
    for (const html of flat) expect(refusal(() => scanMarkup(html, 'html', LIMITS)), html.slice(0, 40)).toBeNull();
    // Outside svg/math, `<b/>` opens an element like `<b>` (as htmlparser2 reads it).
    expect(refusal(() => scanMarkup('<b/>'.repeat(40), 'html', LIMITS))?.status).toBe(422);
    expect(refusal(() => scanMarkup('<B>'.repeat(20) + '<b>'.repeat(20), 'html', LIMITS))?.status).toBe(422);
    // XML: every <x/> closes itself, every end tag closes the innermost element.
    expect(refusal(() => scanMarkup('<w:p/>'.repeat(500), 'xml', LIMITS))).toBeNull();
    expect(refusal(() => scanMarkup('<w:p>'.repeat(33), 'xml', LIMITS))?.status).toBe(422);
  });

  it('never counts shallower or fewer elements than the DOM linkedom builds', () => {
    const pieces = ['<b>', '</b>', '<i>', '</i>', '<p>', '</p>', '<div>', '</div>', '<li>', '<td>', '<tr>', '<table>', '</table>', '<br>', '</br>', '<b/>', '<svg>', '</svg>', '<g/>', '<g>', '<math>', '<title>', '</title>', '<script>', '</script>', '<!--', '-->', 'text', ' ', '<a href=x/>', '<a href="x>">', '<?pi>', '<!doctype html>', '<select>', '<option>', '<dd>', '<h1>', '</p>', '<', '>', '<xmp>', '</xmp>', '<textarea>', '<style>', '</style>', '<![CDATA[', ']]>', '<!x>', '<foreignObject>', '<desc>', '<mi>', '</svg >', "<a b='>'>", '<b\n>', '</b\n>', '<P>', '</P>', '<li/>', '<tr/>', '<svg/>', '-', '!', '/', '</', '<!-', '"', "'", '='];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 60 }), (parts) => {
        const html = parts.join('');
        const { depth, elements } = domShape(html);
        if (depth > 0) expect(refusal(() => scanMarkup(html, 'html', { maxElements: 1e9, maxDepth: depth - 1 })), `depth of ${html}`).not.toBeNull();
        if (elements > 0) expect(refusal(() => scanMarkup(html, 'html', { maxElements: elements - 1, maxDepth: 1e9 })), `elements of ${html}`).not.toBeNull();
      }),
      { numRuns: 500 },
    );
  });
});

/** Depth and element count of the tree linkedom builds (walked by sibling links). */
function domShape(html: string): { depth: number; elements: number } {
  const { document } = parseHTML(html);
  let depth = 0;
  let elements = 0;
  const walk = (node: { nodeType: number; firstChild: unknown; nextSibling: unknown }, level: number) => {
    if (node.nodeType === 1) {
      elements++;
      depth = Math.max(depth, level);
    }
    for (let child = node.firstChild as typeof node | null; child; child = child.nextSibling as typeof node | null) walk(child, node.nodeType === 1 ? level + 1 : level);
  };
  walk(document as never, 1);
  return { depth, elements };
}

const DOC_LIMITS: DocumentLimits = { maxInflatedBytes: MB, maxElements: 1000, maxDepth: 32 };

describe('DOCX limits', () => {
  it('counts the elements of every markup part, whatever its name; refuses deep nesting', async () => {
    const paragraphs = (n: number) => Array.from({ length: n }, (_, i) => `Paragraph ${i}`);
    expect(await extractFileText(buildDocx(paragraphs(100)), 'docx', DOC_LIMITS)).toContain('Paragraph 99');
    // Each paragraph is three elements (w:p, w:r, w:t).
    await expect(extractFileText(buildDocx(paragraphs(400)), 'docx', DOC_LIMITS)).rejects.toMatchObject({ status: 422, message: 'The document is too complex to import (more than 1000 elements)' });
    const hidden = buildZip([['word/document.xml', documentXml(['x'])], ['word/extra.bin', `<x>${'<y/>'.repeat(1200)}</x>`]]);
    await expect(extractFileText(hidden, 'docx', DOC_LIMITS)).rejects.toMatchObject({ status: 422 });
    const deep = buildDocx([], documentXml(['x']).replace('<w:body>', `<w:body>${'<w:sdt>'.repeat(40)}${'</w:sdt>'.repeat(40)}`));
    await expect(extractFileText(deep, 'docx', DOC_LIMITS)).rejects.toMatchObject({ status: 422, message: 'The document is too complex to import (nested more than 32 levels deep)' });
  });

  it('refuses a DOCX that inflates past the limit with 413 naming it', async () => {
    const padded = documentXml(['x']).replace('<w:body>', `<w:body><!--${' '.repeat(2 * MB)}-->`);
    await expect(extractFileText(buildDocx([], padded), 'docx', DOC_LIMITS)).rejects.toMatchObject({
      status: 413,
      message: 'The document expands beyond the allowed size (limit 1 MB uncompressed)',
    });
  });
});

describe('PDF inflation limit', () => {
  it('refuses a PDF whose Flate streams inflate past the limit, before pdf.js reads it', async () => {
    const bomb = pdfWithStream(Buffer.alloc(2 * MB, 0x20));
    expect(bomb.length).toBeLessThan(20_000);
    expect(refusal(() => assertPdfInflationWithin(bomb, MB))).toEqual({ status: 413, message: 'The document expands beyond the allowed size (limit 1 MB uncompressed)' });
    await expect(extractFileText(bomb, 'pdf', DOC_LIMITS)).rejects.toMatchObject({ status: 413 });
    // Declared as an array of filters, or with a truncated stream, it is counted all the same.
    expect(refusal(() => assertPdfInflationWithin(pdfWithStream(Buffer.alloc(2 * MB, 0x20), { filter: '[/FlateDecode]' }), MB))?.status).toBe(413);
    const truncated = pdfWithStream(Buffer.alloc(2 * MB, 0x20));
    const cut = Buffer.concat([truncated.subarray(0, truncated.indexOf('endstream') - 100), truncated.subarray(truncated.indexOf('endstream'))]);
    expect(refusal(() => assertPdfInflationWithin(cut, MB))?.status).toBe(413);
  });

  it('reads a compressed PDF within the limit; image streams are not counted (text extraction never decodes them)', async () => {
    expect(await extractFileText(pdfWithStream(textOperators(20)), 'pdf', DOC_LIMITS)).toContain('Line 19');
    expect(refusal(() => assertPdfInflationWithin(pdfWithStream(Buffer.alloc(2 * MB, 0x20), { dictionary: ' /Type /XObject /Subtype /Image' }), MB))).toBeNull();
    expect(refusal(() => assertPdfInflationWithin(buildPdf([['uncompressed']]), MB))).toBeNull();
  });
});

describe('RTF reader', () => {
  it('gives the text the regex reader gave for ordinary RTF', () => {
    expect(rtfText('{\\rtf1\\ansi{\\fonttbl{\\f0 Arial;}}\\f0 Hello {\\b bold} world.\\par Next paragraph.}')).toBe('Hello bold world.\n\nNext paragraph.');
    expect(rtfText('{\\rtf1 Unicode \\u8364? euro.\\line Next line.}')).toBe('Unicode € euro.\nNext line.');
    expect(rtfText('{\\rtf1\\ansi caf\\\'e9 na\\\'efve \\\'93quoted\\\'94}')).toBe('café naïve “quoted”');
    expect(rtfText('Plain text that is not RTF {\\b x}')).toBe('Plain text that is not RTF {\\b x}');
  });

  it('skips whole destinations however nested, and keeps escaped braces', () => {
    const wordLike =
      '{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0\\fswiss\\fcharset0 Arial;}{\\f1 Times;}}{\\colortbl ;\\red255\\green0\\blue0;}' +
      '{\\*\\generator Riched20 10.0;}{\\info{\\title My doc}{\\author Me}}{\\*\\listtable{\\list{\\listlevel{\\leveltext x;}}}}' +
      '\\viewkind4\\uc1 \\pard\\f0\\fs22 First with \\cf1 red\\cf0  text \\{braces\\} and \\\\ backslash.\\par\r\n' +
      '{\\pict\\pngblip 89504e470d0a1a0a}Second: \\u8212\\\'97 dash.\\par}';
    expect(rtfText(wordLike)).toBe('\n\nFirst with red text {braces} and \\ backslash.\n\nSecond: — dash.\n\n');
  });

  it('reads 400,000 nested destination groups in one pass (the regex reader grew with the square: minutes for this)', () => {
    expect(rtfText(`{\\rtf1 ${'{\\info '.repeat(400_000)}`)).toBe('');
    expect(rtfText(`{\\rtf1 ${'{'.repeat(100_000)}deep${'}'.repeat(100_000)} end}`)).toBe('deep end');
    expect(rtfText(`{\\rtf1 ${'{\\*\\x '.repeat(50_000)}}}} visible}`).length).toBe(0);
  });
});
