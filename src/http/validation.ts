/**
 * zod issues → the contract's error shapes: DRF-style `{field: [messages]}` objects on the
 * endpoints that use them, a single message string elsewhere.
 */
import type { z } from 'zod';
import { AppError, type FieldErrors } from '../lib/errors.js';
import { isPlainObject } from '../lib/objects.js';

/** fields: DRF objects; string: the first message as written; prefixed: `field: message` (query strings). */
export type ErrorStyle = 'fields' | 'string' | 'prefixed';

const pythonType = (value: unknown): string => {
  if (value === null) return 'NoneType';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  return typeof value;
};

export const NUL_MESSAGE = 'Null characters are not allowed.';

/**
 * True when any string (value or key) anywhere in `value` contains NUL, which PostgreSQL
 * cannot store or even compare in text and JSON. Iterative: nesting depth cannot overflow the stack.
 */
export function containsNul(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return true;
    } else if (Array.isArray(v)) {
      for (const item of v) stack.push(item);
    } else if (v && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) {
        if (k.includes('\u0000')) return true;
        stack.push(item);
      }
    }
  }
  return false;
}

/** Deepest nesting a request body may have; deeper input would overflow recursive code (messages, JSON.stringify). */
export const MAX_BODY_DEPTH = 64;

/** True when arrays/objects nest deeper than `max` levels (checked iteratively). */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) return true;
    for (const item of Array.isArray(v) ? v : Object.values(v)) stack.push([item, depth + 1]);
  }
  return false;
}

export function nonObjectMessage(value: unknown): string {
  return `Invalid data. Expected a dictionary, but got ${pythonType(value)}.`;
}

export function toFieldErrors(issues: readonly z.core.$ZodIssue[]): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of issues) {
    const path = issue.path.length ? issue.path.map(String) : ['non_field_errors'];
    let node: FieldErrors = out;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      if (!next || Array.isArray(next)) node[key] = {};
      node = node[key] as FieldErrors;
    }
    const leaf = path[path.length - 1]!;
    const existing = node[leaf];
    const list = Array.isArray(existing) ? existing : [];
    if (!list.includes(issue.message)) list.push(issue.message);
    node[leaf] = list;
  }
  return out;
}

/** The first issue as one line, optionally naming its field ("limit: A valid integer is required."). */
export function toMessage(issues: readonly z.core.$ZodIssue[], withField: boolean): string {
  const first = issues[0];
  if (!first) return 'Invalid request';
  return withField && first.path.length ? `${first.path.join('.')}: ${first.message}` : first.message;
}

/** Parses input with a schema; on failure throws the 400 AppError in the requested style. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, style: ErrorStyle, objectRequired = true): z.output<S> {
  if (objectRequired && !isPlainObject(input)) {
    const message = nonObjectMessage(input);
    throw new AppError(400, style === 'fields' ? { non_field_errors: [message] } : message);
  }
  return validOrThrow(schema.safeParse(input), style);
}

/** The data of a parse result; on failure throws the 400 AppError in the requested style. */
export function validOrThrow<T>(result: z.ZodSafeParseResult<T>, style: ErrorStyle): T {
  if (result.success) return result.data;
  throw new AppError(400, style === 'fields' ? toFieldErrors(result.error.issues) : toMessage(result.error.issues, style === 'prefixed'));
}
