import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { blockedReason, BlockedUrlError, checkFetchUrl, expandV6, parseFetchUrl, vetUrl } from '../../src/lib/ssrf.js';
import { safeFetch } from '../../src/services/imports/fetch.js';

describe('SSRF guard', () => {
  it('classifies addresses in every notation', () => {
    const blocked = ['127.0.0.1', '127.255.255.254', '0.0.0.0', '10.1.2.3', '172.31.0.1', '192.168.0.1', '169.254.169.254', '100.64.0.1', '100.127.255.255',
      '224.0.0.1', '255.255.255.255', '192.0.2.1', '198.18.0.1', '::', '::1', '::ffff:7f00:1', '::ffff:127.0.0.1', '::ffff:8.8.8.8', '::7f00:1',
      '64:ff9b::7f00:1', '2002:7f00:1::', '2001:0:4136:e378::', 'fc00::1', 'fd00:ec2::254', 'fe80::1', 'ff02::1', '2001:db8::1'];
    for (const a of blocked) expect(blockedReason(a), a).not.toBeNull();
    for (const a of ['8.8.8.8', '1.1.1.1', '100.128.0.1', '172.32.0.1', '2606:4700:4700::1111', '2a00:1450:4001::200e']) expect(blockedReason(a), a).toBeNull();
    expect(expandV6('::ffff:127.0.0.1')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x7f00, 1]);
  });

  it('parses once with the WHATWG parser, which canonicalises numeric hosts', () => {
    for (const raw of ['http://2130706433/', 'http://0x7f000001/', 'http://127.1/', 'http://0177.0.0.1/']) expect(parseFetchUrl(raw).hostname).toBe('127.0.0.1');
    expect(() => parseFetchUrl('file:///etc/passwd')).toThrow('Only HTTP/HTTPS supported');
    expect(() => parseFetchUrl('gopher://x/')).toThrow(BlockedUrlError);
    expect(() => parseFetchUrl('http://user:pass@example.com/')).toThrow('URLs with credentials are not allowed');
    expect(() => checkFetchUrl(new URL('https://user@example.com/'))).toThrow('URLs with credentials are not allowed');
    expect(checkFetchUrl(new URL('https://example.com/a')).href).toBe('https://example.com/a');
  });

  it('re-checks every redirect hop: a Location with credentials is refused and never requested', async () => {
    const requests: { url: string; authorization?: string }[] = [];
    const server = createHttpServer((req, res) => {
      requests.push({ url: req.url ?? '', authorization: req.headers.authorization });
      if (req.url === '/hop') return res.writeHead(302, { location: `http://user:secret@pinned.test:${port}/inner` }).end();
      res.writeHead(200, { 'content-type': 'text/plain' }).end('inner');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const resolver = async () => [{ address: '127.0.0.1', family: 4 }];
    try {
      const fetching = safeFetch(new URL(`http://pinned.test:${port}/hop`), { resolver, allowHosts: ['pinned.test'], timeoutMs: 2000, maxBytes: 1024, maxRedirects: 5 });
      await expect(fetching).rejects.toThrow(new BlockedUrlError('URLs with credentials are not allowed'));
      expect(requests).toEqual([{ url: '/hop', authorization: undefined }]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('refuses a hostname when any resolved address is internal (custom resolver), and honours the allowlist', async () => {
    const resolver = async () => [{ address: '93.184.216.34', family: 4 }, { address: '127.0.0.1', family: 4 }];
    await expect(vetUrl(new URL('http://rebind.example/'), { resolver })).rejects.toThrow(/loopback/);
    const single = async () => [{ address: '127.0.0.1', family: 4 }];
    await expect(vetUrl(new URL('http://evil.example/'), { resolver: single })).rejects.toThrow(BlockedUrlError);
    await expect(vetUrl(new URL('http://evil.example/'), { resolver: single, allowHosts: ['evil.example'] })).resolves.toMatchObject({ address: '127.0.0.1' });
  });

  it('connects to the vetted address only: a name resolving elsewhere later is never looked up again', async () => {
    let connections = 0;
    const server = createServer((socket) => {
      connections++;
      socket.on('data', () => socket.end('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    let lookups = 0;
    // First answer allowlisted 127.0.0.1; a second lookup (rebinding) would point elsewhere.
    const resolver = async () => (lookups++ === 0 ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '10.0.0.1', family: 4 }]);
    const page = await safeFetch(new URL(`http://pinned.test:${port}/`), { resolver, allowHosts: ['pinned.test'], timeoutMs: 2000, maxBytes: 1024, maxRedirects: 0 });
    expect(page.body.toString()).toBe('hello');
    expect(lookups).toBe(1);
    expect(connections).toBe(1);
    await new Promise<void>((r) => server.close(() => r()));
  });
});
