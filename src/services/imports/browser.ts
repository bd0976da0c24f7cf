/**
 * Advanced URL import: the page is fetched by the SSRF-safe fetcher, then rendered by
 * headless Chromium (playwright-core, CHROMIUM_PATH) with its network cut off, so inline
 * scripts can build the DOM but the browser can never reach another address itself: every
 * request is aborted, and a dead proxy with no loopback bypass catches anything else.
 * The rendered HTML is returned as a fetched page, for the parser processes to read; every
 * step shares the import's deadline.
 */
import { type FetchedDocument, type FetchLimits, FetchError, safeFetch } from './fetch.js';
import { decodeText } from './text.js';

export const ADVANCED_UNAVAILABLE = 'Advanced scraping not available. Playwright not installed. Use Basic mode or upgrade server.';

export async function renderWithBrowser(chromiumPath: string | null, url: URL, limits: FetchLimits, deadlineAt: number): Promise<FetchedDocument> {
  if (!chromiumPath) throw new FetchError(ADVANCED_UNAVAILABLE);
  const remaining = () => Math.max(1, deadlineAt - Date.now());
  const page = await safeFetch(url, { ...limits, timeoutMs: remaining() });
  if (page.contentType !== 'text/html' && page.contentType !== 'application/xhtml+xml') {
    throw new FetchError('Advanced mode reads web pages only; use Basic mode for this URL');
  }
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    timeout: remaining(),
    args: [
      '--no-sandbox', // servers often run as root, where Chromium's sandbox cannot start
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--proxy-server=http://0.0.0.0:1',
      '--proxy-bypass-list=<-loopback>',
      '--host-resolver-rules=MAP * ~NOTFOUND',
    ],
  });
  try {
    const context = await browser.newContext({ serviceWorkers: 'block', javaScriptEnabled: true, offline: true });
    const tab = await context.newPage();
    await tab.route('**/*', (route) => route.abort());
    await tab.setContent(decodeText(page.body, page.charset), { waitUntil: 'load', timeout: remaining() });
    await tab.waitForTimeout(Math.min(500, remaining()));
    const rendered = await tab.content();
    return { ...page, contentType: 'text/html', charset: 'utf-8', body: Buffer.from(rendered, 'utf8') };
  } finally {
    await browser.close();
  }
}
