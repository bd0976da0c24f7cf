/**
 * Hostile requests derived from the API's own OpenAPI document: fast-check arbitraries that
 * build a plausible request from each operation's request-body and query schemas, then
 * mutate it (wrong types, missing and extra fields, huge strings, deep nesting, unicode edge
 * cases, NUL, prototype-pollution keys, numbers as strings, arrays for objects, non-object
 * bodies). Ids and tokens are placeholders (`{{workspaceId}}`) filled in when a request is
 * sent, so the same generated case runs against whatever data the test has at that moment.
 */
import fc from 'fast-check';

export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  format?: string;
  default?: unknown;
};

/** A request body as it goes on the wire. */
export type HostileBody =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown }
  /** Raw text with a content type (broken JSON, form bodies, text/plain, prototype keys kept verbatim). */
  | { kind: 'raw'; text: string; type: string };

/** Placeholders the sender replaces with live ids (own tenant, other tenant) and tokens. */
export const PLACEHOLDERS = ['workspaceId', 'conversationId', 'messageId', 'memoryId', 'integrationId', 'invitationId', 'userId', 'apiKeyId', 'version', 'refresh'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
export const own = (p: Placeholder) => `{{${p}}}`;
export const others = (p: Placeholder) => `{{other:${p}}}`;

/** Path parameter name → the placeholder of the id it takes. */
export const PARAM_PLACEHOLDER: Record<string, Placeholder> = {
  workspaceId: 'workspaceId',
  conversationId: 'conversationId',
  messageId: 'messageId',
  memoryId: 'memoryId',
  integrationId: 'integrationId',
  invitationId: 'invitationId',
  userId: 'userId',
  apiKeyId: 'apiKeyId',
  /** A memory's version number (its history): the same small number in every tenant. */
  version: 'version',
};

/** Body and query keys that carry ids: plausible values point at real rows. */
const KEY_PLACEHOLDER: Record<string, Placeholder> = {
  workspaceId: 'workspaceId',
  workspace_id: 'workspaceId',
  conversation_id: 'conversationId',
  conversationId: 'conversationId',
  memoryId: 'memoryId',
  refresh: 'refresh',
};

const LONE_SURROGATES = ['\uD800', '\uDFFF', 'a\uDC00b', '\uDBFF\uD7FF'];
const UNICODE = [
  '\u202Eevil\u202C', // RTL override
  'مرحبا بالعالم', // RTL script
  '👩‍👩‍👧‍👦🏳️‍🌈', // ZWJ emoji sequences
  '\u200B\u200D\uFEFF', // zero-width characters and BOM
  'Z̸̡̢͈͍̈́̓a̷̧͉͗l̶̙̈́g̴͔̿o̸̧̓',
  '\uFFFF\uFFFE',
  '𝕳𝖊𝖑𝖑𝖔',
  'é'.normalize('NFD'),
];
const NUL = ['\u0000', 'a\u0000b', '\u0000'.repeat(8), 'text\u0000'];
const INJECTION = [
  "' OR '1'='1",
  "'; DROP TABLE users; --",
  '"); SELECT pg_sleep(5); --',
  '$1',
  '%00',
  '../../../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '<script>alert(1)</script>',
  '{{7*7}}',
  '${process.env.JWT_SECRET}',
  '\\',
  '%',
  '%E0%A4%A',
];
const NUMERIC_STRINGS = ['0', '-1', '42', '1e309', '-1e309', 'NaN', 'Infinity', '0x10', '1.5', '9007199254740993', ' 7 ', ''];
const ODD_NUMBERS = [0, -0, -1, 1.5, 2 ** 31, 2 ** 53 + 1, -(2 ** 63), 1e308, Number.MIN_VALUE];
export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', '__defineGetter__', 'valueOf'];

/**
 * Nested arrays/objects `depth` levels deep. JSON.stringify recurses (it overflows the stack
 * at a few thousand levels) while JSON.parse does not, so a deep value travels as a sentinel
 * string that `toWire` expands into the nested JSON text.
 */
export function deep(depth: number, kind: 'array' | 'object'): unknown {
  return `\u0001DEEP:${kind}:${depth}\u0001`;
}

const DEEP_SENTINEL = /"\\u0001DEEP:(array|object):(\d+)\\u0001"/g;

/** JSON text of a generated value, deep sentinels expanded. */
export function toWire(value: unknown): string {
  return JSON.stringify(value).replace(DEEP_SENTINEL, (_m, kind: string, n: string) => {
    const d = Number(n);
    return kind === 'array' ? `${'['.repeat(d)}"bottom"${']'.repeat(d)}` : `${'{"a":'.repeat(d)}"bottom"${'}'.repeat(d)}`;
  });
}

/** An object with an own enumerable key that JSON.stringify emits verbatim, `__proto__` included. */
export function withOwnKey(base: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(base)) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

const hugeString = fc.constantFrom(10_000, 70_000, 300_000, 1_100_000).chain((n) =>
  fc.constantFrom('x', 'é', '😀', '\u0000', ' ', 'ab\n').map((unit) => unit.repeat(Math.ceil(n / unit.length))),
);

/** A string chosen to break things. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...LONE_SURROGATES, ...UNICODE, ...NUL, ...INJECTION, ...NUMERIC_STRINGS, ...PROTO_KEYS),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.tuple(fc.constantFrom(...UNICODE, ...LONE_SURROGATES), fc.constantFrom(...NUL, '')).map(([a, b]) => a + b),
  { arbitrary: hugeString, weight: 1 },
);

/** Any value chosen to break things: wrong types, odd numbers, deep nesting, prototype keys. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: hostileString, weight: 4 },
  { arbitrary: fc.constantFrom<unknown>(null, true, false, [], {}, [null], [[]], [{}], ...ODD_NUMBERS), weight: 2 },
  { arbitrary: fc.integer(), weight: 1 },
  { arbitrary: fc.double(), weight: 1 },
  { arbitrary: fc.constantFrom(50, 2_000, 20_000).chain((d) => fc.constantFrom('array', 'object').map((k) => deep(d, k as 'array' | 'object'))), weight: 1 },
  { arbitrary: fc.constantFrom(...PROTO_KEYS).map((k) => withOwnKey({}, k, { polluted: true, isAdmin: true })), weight: 1 },
  { arbitrary: fc.array(hostileString, { maxLength: 3 }), weight: 1 },
  { arbitrary: fc.array(fc.string(), { minLength: 101, maxLength: 150 }), weight: 1 }, // longer than every list cap
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 1 },
);

function typesOf(s: JsonSchema): string[] {
  if (Array.isArray(s.type)) return s.type;
  return s.type ? [s.type] : [];
}

/** A plausible value for a schema (what a well-behaved client would send). */
export function plausible(schema: JsonSchema | undefined, key = ''): fc.Arbitrary<unknown> {
  if (!schema) return fc.jsonValue({ maxDepth: 2 });
  const ph = KEY_PLACEHOLDER[key];
  if (ph) return fc.constantFrom(own(ph), own(ph), others(ph), 'x');
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alts = schema.anyOf ?? schema.oneOf;
  if (alts?.length) return fc.oneof(...alts.map((a) => plausible(a, key)));
  if (schema.allOf?.length) return plausible(schema.allOf[0], key);
  const types = typesOf(schema);
  if (types.length > 1) return fc.oneof(...types.map((t) => plausible({ ...schema, type: t }, key)));
  switch (types[0]) {
    case 'string': {
      if (schema.format === 'email') return fc.emailAddress();
      const min = schema.minLength ?? 1;
      const max = Math.max(min, Math.min(schema.maxLength ?? 60, 60));
      return fc.string({ minLength: min, maxLength: max, unit: 'grapheme-ascii' });
    }
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -5, max: Math.min(schema.maximum ?? 200, 1_000_000) });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(plausible(schema.items, key), { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 3, 3) });
    case 'object': {
      const props = schema.properties ?? {};
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, s] of Object.entries(props)) model[k] = plausible(s, k);
      return fc.record(model, { requiredKeys: (schema.required ?? []).filter((k) => k in props) });
    }
    default:
      // unrepresentable in JSON Schema (preprocessed booleans, integers, custom objects): anything
      return fc.oneof(fc.boolean(), fc.integer({ min: 0, max: 100 }), fc.string({ maxLength: 10 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }));
  }
}

type Obj = Record<string, unknown>;

/** One mutation of a plausible object body, picked by fast-check. */
function mutateObject(schema: JsonSchema, base: fc.Arbitrary<Obj>): fc.Arbitrary<HostileBody> {
  const keys = Object.keys(schema.properties ?? {});
  const keyArb = keys.length ? fc.constantFrom(...keys) : fc.constant('field');
  const json = (value: unknown): HostileBody => ({ kind: 'json', value });
  return fc.oneof(
    { arbitrary: base.map(json), weight: 3 },
    // one field gets a hostile value
    { arbitrary: fc.tuple(base, keyArb, hostileValue).map(([b, k, v]) => json(withOwnKey(b, k, v))), weight: 6 },
    // every field gets a hostile value
    { arbitrary: fc.tuple(base, fc.array(hostileValue, { minLength: keys.length, maxLength: keys.length })).map(([b, vs]) => json(keys.reduce((o, k, i) => withOwnKey(o, k, vs[i]), b))), weight: 2 },
    // a field goes missing (required ones included)
    { arbitrary: fc.tuple(base, keyArb).map(([b, k]) => json(Object.fromEntries(Object.entries(b).filter(([x]) => x !== k)))), weight: 2 },
    // extra fields, prototype-pollution keys among them
    { arbitrary: fc.tuple(base, fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.string({ maxLength: 12 })), hostileValue).map(([b, k, v]) => json(withOwnKey(b, k, v))), weight: 2 },
    { arbitrary: base.map((b) => json(withOwnKey(withOwnKey(b, '__proto__', { isAdmin: true, role: 'owner' }), 'constructor', { prototype: { isAdmin: true } }))), weight: 1 },
    // numbers and booleans as strings, strings as numbers
    { arbitrary: base.map((b) => json(Object.fromEntries(Object.entries(b).map(([k, v]) => [k, typeof v === 'string' ? 12345 : JSON.stringify(v)])))), weight: 1 },
    // arrays for objects, non-object bodies
    { arbitrary: base.map((b) => json([b])), weight: 1 },
    { arbitrary: fc.constantFrom<unknown>(null, 0, 1, true, false, 'a string', '', [], [1, 2], ['x']).map(json), weight: 2 },
    { arbitrary: fc.constantFrom(50, 5_000, 50_000).map((d) => json(deep(d, 'object'))), weight: 1 },
    // wrong wire formats: broken JSON, text/plain, form bodies with odd keys, JSON with duplicate keys
    { arbitrary: fc.constantFrom('{', '{"a":', '[1,2', '{"a":1}}', '\u0000', '{"__proto__":{"isAdmin":true}}', 'null', '"\\ud800"', '{"a":"\\u0000"}').map((text) => ({ kind: 'raw', text, type: 'application/json' }) as HostileBody), weight: 1 },
    { arbitrary: base.map((b) => ({ kind: 'raw', text: JSON.stringify(b), type: 'text/plain' }) as HostileBody), weight: 1 },
    { arbitrary: fc.tuple(base, fc.constantFrom('__proto__[isAdmin]=1', 'constructor[prototype][x]=1', 'a[b][c]=1', '%ZZ=1', 'name=%E0%A4%A')).map(([b, extra]) => ({ kind: 'raw', text: `${new URLSearchParams(Object.entries(b).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])).toString()}&${extra}`, type: 'application/x-www-form-urlencoded' }) as HostileBody), weight: 1 },
    { arbitrary: base.map((b) => { const text = JSON.stringify(b); return { kind: 'raw', text: text === '{}' ? '{"a":1,"a":2}' : `${text.slice(0, -1)},${text.slice(1)}`, type: 'application/json' } as HostileBody; }), weight: 1 },
    { arbitrary: fc.constant<HostileBody>({ kind: 'none' }), weight: 1 },
  );
}

/** Bodies for an operation: mutations of plausible bodies, or for operations without a body schema, anything. */
export function hostileBody(schema: JsonSchema | undefined): fc.Arbitrary<HostileBody> {
  const objectSchema: JsonSchema = schema && typesOf(schema).includes('object') ? schema : { type: 'object', properties: {} };
  return mutateObject(objectSchema, plausible(objectSchema) as fc.Arbitrary<Obj>);
}

export interface QueryParam {
  name: string;
  required?: boolean;
  schema?: JsonSchema;
}

/** Percent-encodes any string, lone surrogates included (as their WTF-8 bytes, which are invalid UTF-8). */
export function encodeAny(s: string): string {
  let out = '';
  for (const ch of s) {
    try {
      out += encodeURIComponent(ch);
    } catch {
      const c = ch.charCodeAt(0);
      out += `%${(0xe0 | (c >> 12)).toString(16).toUpperCase()}%${(0x80 | ((c >> 6) & 0x3f)).toString(16).toUpperCase()}%${(0x80 | (c & 0x3f)).toString(16).toUpperCase()}`;
    }
  }
  return out;
}

/** A query string (without `?`): plausible values, hostile values, repeated keys, extra and prototype keys, raw bad escapes. */
export function hostileQuery(params: QueryParam[]): fc.Arbitrary<string> {
  const names = params.map((p) => p.name);
  const valueOf = (p: QueryParam) => plausible(p.schema, p.name).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  const pair = fc.oneof(
    ...(params.length ? [fc.constantFrom(...params).chain((p) => valueOf(p).map((v) => [p.name, v] as const))] : []),
    fc.tuple(names.length ? fc.constantFrom(...names) : fc.constant('q'), hostileString.filter((s) => s.length < 500)),
    fc.tuple(fc.constantFrom(...PROTO_KEYS, 'limit', 'offset', 'search', 'tags', 'workspace_id', 'a[b]', '__proto__[x]'), hostileString.filter((s) => s.length < 200)),
  );
  return fc.oneof(
    { arbitrary: fc.tuple(fc.array(pair, { maxLength: 5 }), fc.constantFrom(0, 0, 0, 3_000)).map(([pairs, long]) => (long ? [...pairs, ['search', 'q'.repeat(long)] as const] : pairs)).map((pairs) => pairs.map(([k, v]) => `${encodeAny(k)}=${encodeAny(v)}`).join('&')), weight: 8 },
    { arbitrary: fc.constantFrom('%', '%ZZ', 'limit=%E0%A4%A', 'limit=1&limit=2', 'tags=a&tags=b&tags=c', '=', '&&&', 'limit', 'offset=-1', 'limit=1e3', `tags=${'a,'.repeat(500)}`), weight: 2 },
    { arbitrary: fc.constant(''), weight: 2 },
  );
}

/** A path id: usually a live id (own tenant or another's), otherwise something hostile, raw or encoded. */
export function hostileId(placeholder: Placeholder | undefined): fc.Arbitrary<string> {
  const live = placeholder ? [fc.constant(own(placeholder)), fc.constant(others(placeholder))] : [];
  return fc.oneof(
    ...live.map((arbitrary) => ({ arbitrary, weight: 4 })),
    { arbitrary: fc.constantFrom('workspace-000000000000', 'conv-ffffffffffff', 'memory-123', 'int-0', '1', '0', '-1', '9999999999999999999999', 'null', 'undefined', 'true'), weight: 2 },
    // Node's HTTP parser refuses request lines over 16 KB (431, before the app): ids stay below that
    { arbitrary: hostileString.filter((s) => s.length < 1_000).map(encodeAny), weight: 3 },
    { arbitrary: fc.constantFrom('%', '%ZZ', '%E0%A4%A', '%C0%AF', '%00', '..%2F..%2Fetc%2Fpasswd', '%2E%2E', '__proto__', 'constructor', 'prototype', '%F0%9F%98%80', 'a;b', '*'), weight: 2 },
    { arbitrary: fc.constantFrom(51, 300, 5_000).map((n) => 'x'.repeat(n)), weight: 1 },
  );
}

/** Response text patterns that only internals produce: stack frames, source paths, SQL and driver messages. */
export const LEAK_PATTERNS: RegExp[] = [
  /\n\s+at\s+\S+/, // a stack frame
  /\bat (?:async )?\S+ \((?:file:|\/)/,
  /node_modules/,
  /\/src\/\S+\.(?:ts|js)/,
  /\b(?:SELECT\s+.+\s+FROM|INSERT\s+INTO|UPDATE\s+"?\w+"?\s+SET|DELETE\s+FROM)\b/i,
  /syntax error at or near|invalid input syntax|violates (?:foreign key|unique|not-null|check) constraint|duplicate key value|relation "\w+"|column "\w+"/i,
  /Prisma|PrismaClient|\bP20\d\d\b|prisma\.\w+\.\w+\(/,
  /TypeError|ReferenceError|RangeError|SyntaxError: (?!JSON)|Maximum call stack/,
  /ECONNREFUSED|ETIMEDOUT|getaddrinfo/,
];
