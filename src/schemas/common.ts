/**
 * Field builders that speak DRF's messages, so validation errors read exactly as the
 * frontend expects ("This field is required.", "Ensure this field has no more than 255 characters.").
 */
import { z } from 'zod';

type Issue = { input?: unknown };

/**
 * A user-sent value as an error message may echo it: at most 100 characters, and never by
 * calling the value's own methods (`{"toString": {}}` makes String() throw).
 */
function shown(value: unknown): string {
  let out: string;
  if (value === null || typeof value !== 'object') out = String(value);
  else {
    try {
      out = JSON.stringify(value) ?? typeof value;
    } catch {
      out = Array.isArray(value) ? 'list' : 'dict';
    }
  }
  return out.length > 100 ? `${out.slice(0, 100)}…` : out;
}
const typeError = (what: string) => (issue: Issue) =>
  issue.input === undefined ? 'This field is required.' : issue.input === null ? 'This field may not be null.' : what;

export const msg = {
  required: 'This field is required.',
  blank: 'This field may not be blank.',
  minLength: (n: number) => `Ensure this field has at least ${n} characters.`,
  maxLength: (n: number) => `Ensure this field has no more than ${n} characters.`,
  email: 'Enter a valid email address.',
  choice: (value: unknown) => `"${shown(value)}" is not a valid choice.`,
  integer: 'A valid integer is required.',
  boolean: 'Must be a valid boolean.',
};

export interface TextOptions {
  max?: number;
  min?: number;
  /** Strip surrounding whitespace before checking and storing (DRF CharField default). */
  trim?: boolean;
  allowBlank?: boolean;
}

/** A string field; DRF-compatible messages; NUL characters refused (PostgreSQL cannot store them). */
export function text({ max, min, trim = true, allowBlank = false }: TextOptions = {}) {
  let s = z.string({ error: typeError('Not a valid string.') });
  if (trim) s = s.trim();
  if (!allowBlank) s = s.min(1, { error: msg.blank });
  if (min !== undefined) s = s.min(min, { error: msg.minLength(min) });
  if (max !== undefined) s = s.max(max, { error: msg.maxLength(max) });
  return s.refine((v) => !v.includes('\u0000'), { error: 'Null characters are not allowed.' });
}

export const email = (max = 254) =>
  z
    .string({ error: typeError('Enter a valid email address.') })
    .trim()
    .min(1, { error: msg.blank })
    .max(max, { error: msg.maxLength(max) })
    .pipe(z.email({ error: msg.email }));

export const choice = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: (issue: Issue) => (issue.input === undefined ? msg.required : issue.input === null ? 'This field may not be null.' : msg.choice(issue.input)) });

/** DRF BooleanField: true/false and their common string and number spellings. */
export const boolean = () =>
  z.preprocess(
    (v) => {
      if (typeof v === 'string') {
        const t = v.trim().toLowerCase();
        if (['true', '1', 'yes', 'on', 't', 'y'].includes(t)) return true;
        if (['false', '0', 'no', 'off', 'f', 'n'].includes(t)) return false;
      }
      if (v === 1) return true;
      if (v === 0) return false;
      return v;
    },
    z.boolean({ error: (issue: Issue) => (issue.input === undefined ? msg.required : msg.boolean) }),
  );

/** Integer query/body parameter, accepting numeric strings. */
export const integer = (min?: number, max?: number) => {
  let n = z.coerce.number({ error: msg.integer }).int({ error: msg.integer });
  if (min !== undefined) n = n.min(min, { error: `Ensure this value is greater than or equal to ${min}.` });
  if (max !== undefined) n = n.max(max, { error: `Ensure this value is less than or equal to ${max}.` });
  return z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), n);
};

/** Optional paging for lists (D21): the full list by default; limit ≤ 100 when given. */
export const paging = z.object({
  limit: integer(1, 100).optional(),
  offset: integer(0).optional(),
});
