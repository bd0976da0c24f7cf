/**
 * Building blocks of the response schemas: the zod schemas that describe what the presenters
 * return feed the presenters' types, the OpenAPI document and the response checks of the tests.
 * Components carry an `id` (their name under components/schemas) and an example.
 */
import { z } from 'zod';

/** An ISO-8601 UTC timestamp as `Date.toISOString()` writes it. */
export const timestamp = () => z.string().meta({ format: 'date-time', examples: ['2025-12-08T06:43:35.123Z'] });

/** A free-form JSON object (metadata blobs: keys vary by source). */
export const jsonObject = () => z.record(z.string(), z.unknown());

/** `{message}`: what deletions and plain actions answer. */
export const MessageResult = z
  .object({ message: z.string() })
  .meta({ id: 'MessageResult', description: 'A confirmation', examples: [{ message: 'Memory deleted successfully' }] });

/** DRF-style field errors: `{field: [messages]}`, nested per index for lists (`{"tags": {"0": [...]}}`). */
export type FieldErrors = { [field: string]: string[] | FieldErrors };
export const FieldErrors: z.ZodType<FieldErrors> = z
  .lazy(() => z.record(z.string(), z.union([z.array(z.string()), FieldErrors])))
  .meta({
    id: 'FieldErrors',
    description: 'Validation errors per field, each a list of messages; a list field reports per index',
    examples: [{ email: ['Email already exists'], password: ['Ensure this field has at least 8 characters.'] }],
  });

/**
 * What a presenter may return for schema S: its output type with string enums widened to
 * string (rows hold plain strings; the document and the response checks hold the enums).
 */
export type Presented<S extends z.ZodType> = Widened<z.output<S>>;
type Widened<T> = T extends string
  ? string
  : T extends readonly (infer U)[]
    ? Widened<U>[]
    : T extends object
      ? { [K in keyof T]: Widened<T[K]> }
      : T;

/** The failure envelope: a message, or field errors on the endpoints that validate like DRF serializers. */
export const ErrorEnvelope = z
  .object({ ok: z.literal(false), data: z.null(), error: z.union([z.string(), FieldErrors]) })
  .meta({ id: 'ErrorEnvelope', examples: [{ ok: false, data: null, error: 'Access denied' }] });
