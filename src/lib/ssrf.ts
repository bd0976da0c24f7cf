/**
 * SSRF guard for server-side fetches (D15). The URL is parsed once with the WHATWG parser,
 * which already canonicalises every IPv4 spelling (2130706433, 0x7f000001, 127.1, 0177.0.0.1
 * all become 127.0.0.1) and IPv6 (::ffff:127.0.0.1 becomes ::ffff:7f00:1). The host is then
 * resolved once; every address must be public unicast, and the connection is pinned to the
 * vetted address (see `pinnedLookup`), so a second DNS answer can never be used (no rebinding).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';

export class BlockedUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BlockedUrlError';
  }
}

/** Resolves a hostname to every address it has (injectable so tests can fake DNS). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));

/** A URL that passed every check, with the one address the connection must use. */
export interface VettedTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

export interface GuardOptions {
  resolver?: Resolver;
  /** Hostnames exempt from the address check (URL_IMPORT_ALLOW_HOSTS), compared canonically. */
  allowHosts?: readonly string[];
}

const parseV4 = (address: string): number[] => address.split('.').map(Number);

function v4Blocked(address: string): string | null {
  const [a, b, c] = parseV4(address) as [number, number, number, number];
  if (a === 0) return 'unspecified';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'private';
  if (a === 127) return 'loopback';
  if (a === 169 && b === 254) return 'link-local or metadata';
  if (a === 100 && b >= 64 && b <= 127) return 'shared (CGNAT)';
  if (a === 192 && b === 0 && (c === 0 || c === 2)) return 'reserved';
  if (a === 192 && b === 88 && c === 99) return 'reserved';
  if (a === 198 && (b === 18 || b === 19)) return 'reserved';
  if ((a === 198 && b === 51 && c === 100) || (a === 203 && b === 0 && c === 113)) return 'reserved';
  if (a >= 224 && a <= 239) return 'multicast';
  if (a >= 240) return 'reserved';
  return null;
}

/** Expands any IPv6 text (compressed, with a dotted IPv4 tail) into 8 16-bit groups. */
export function expandV6(address: string): number[] {
  let text = address.replace(/^\[|\]$/g, '').split('%')[0]!.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = parseV4(dotted[1]!) as [number, number, number, number];
    text = text.slice(0, -dotted[1]!.length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? (text.split('::') as [string, string]) : [text, null];
  const left = head ? head.split(':') : [];
  const right = tail === null ? [] : tail ? tail.split(':') : [];
  const fill = tail === null ? [] : Array(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((g) => parseInt(g, 16));
}

function v6Blocked(address: string): string | null {
  const g = expandV6(address);
  const zeroPrefix = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (g.every((x) => x === 0)) return 'unspecified';
  if (zeroPrefix(7) && g[7] === 1) return 'loopback';
  // IPv4-mapped (::ffff:0:0/96), IPv4-compatible (::/96), IPv4-translated (::ffff:0:0:0/96):
  // refused outright rather than trusting the embedded IPv4.
  if (zeroPrefix(5) && (g[5] === 0xffff || g[5] === 0)) return 'IPv4-mapped';
  if (zeroPrefix(4) && g[4] === 0xffff && g[5] === 0) return 'IPv4-mapped';
  if (g[0] === 0x64 && g[1] === 0xff9b) return 'IPv4-embedded (NAT64)';
  if (g[0] === 0x2002) return 'IPv4-embedded (6to4)';
  if (g[0] === 0x2001 && g[1] === 0) return 'IPv4-embedded (Teredo)';
  if (g[0] === 0x2001 && g[1] === 0xdb8) return 'reserved';
  if (g[0] === 0x100 && zeroPrefix(4)) return 'reserved';
  if ((g[0]! & 0xfe00) === 0xfc00) return 'private';
  if ((g[0]! & 0xffc0) === 0xfe80) return 'link-local';
  if ((g[0]! & 0xffc0) === 0xfec0) return 'private';
  if ((g[0]! & 0xff00) === 0xff00) return 'multicast';
  return null;
}

/** Why an IP address may not be fetched, or null when it is public unicast. */
export function blockedReason(address: string): string | null {
  const family = isIP(address.replace(/^\[|\]$/g, ''));
  if (family === 4) return v4Blocked(address);
  if (family === 6) return v6Blocked(address);
  return 'not an IP address';
}

/** Parses a user-supplied URL once; only http and https with no credentials are accepted. */
export function parseFetchUrl(input: string): URL {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new BlockedUrlError('Invalid URL');
  }
  return checkFetchUrl(url);
}

/** The checks every URL fetched gets, the user's and each redirect's: http(s), no credentials, a host. */
export function checkFetchUrl(url: URL): URL {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new BlockedUrlError('Only HTTP/HTTPS supported');
  if (url.username || url.password) throw new BlockedUrlError('URLs with credentials are not allowed');
  if (!url.hostname) throw new BlockedUrlError('Invalid URL');
  return url;
}

const bare = (hostname: string) => hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();

/**
 * Checks a parsed URL and resolves its host exactly once. Throws BlockedUrlError when any
 * resolved address is not public (one bad answer is enough to refuse).
 */
export async function vetUrl(url: URL, options: GuardOptions = {}): Promise<VettedTarget> {
  const host = bare(url.hostname);
  const allowed = (options.allowHosts ?? []).some((h) => bare(h) === host);
  const literal = isIP(host);
  let addresses: LookupAddress[];
  if (literal) {
    addresses = [{ address: host, family: literal }];
  } else {
    try {
      addresses = await (options.resolver ?? systemResolver)(host);
    } catch {
      throw new BlockedUrlError(`Could not resolve host ${host}`);
    }
    if (addresses.length === 0) throw new BlockedUrlError(`Could not resolve host ${host}`);
  }
  if (!allowed) {
    for (const { address } of addresses) {
      const reason = blockedReason(address);
      if (reason) throw new BlockedUrlError(`URL not allowed: ${host} resolves to a ${reason} address`);
    }
  }
  const first = addresses[0]!;
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net/tls.connect that answers with the vetted address only, whatever the
 * hostname, so the socket goes exactly where the check said it may.
 */
export function pinnedLookup(target: VettedTarget) {
  return (_hostname: string, options: { all?: boolean } | number | undefined, callback?: LookupCallback) => {
    const cb = (typeof options === 'function' ? options : callback) as LookupCallback;
    const all = typeof options === 'object' && options?.all;
    if (all) cb(null, [{ address: target.address, family: target.family }]);
    else cb(null, target.address, target.family);
  };
}
