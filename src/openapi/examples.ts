/**
 * Example values composed from a JSON Schema: a component's own example where it has one,
 * else one built from its properties. Response examples in the document are made this way,
 * so they follow the schemas (and the linter checks them against the schemas).
 */
type JsonSchema = Record<string, unknown>;

const FORMATS: Record<string, string> = {
  'date-time': '2025-12-08T06:43:35.123Z',
  uuid: '3f2b8c1e-5d4a-4b6f-9e21-7a0c9d8e1f23',
  email: 'ada@example.com',
};

export function exampleOf(schema: JsonSchema, resolve: (schema: JsonSchema) => JsonSchema, depth = 0): unknown {
  const s = resolve(schema);
  if (depth > 12) return undefined;
  if (Array.isArray(s.examples) && s.examples.length > 0) return s.examples[0];
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum)) return s.enum[0];
  const options = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined;
  if (options) {
    const chosen = options.find((o) => resolve(o).type !== 'null') ?? options[0]!;
    return exampleOf(chosen, resolve, depth + 1);
  }
  // A nullable type (`["string", "null"]`) is shown with a value.
  const type = Array.isArray(s.type) ? (s.type.find((t) => t !== 'null') ?? 'null') : s.type;
  switch (type) {
    case 'object': {
      const properties = (s.properties ?? {}) as Record<string, JsonSchema>;
      return Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, exampleOf(v, resolve, depth + 1)]).filter(([, v]) => v !== undefined));
    }
    case 'array': {
      const item = exampleOf((s.items ?? {}) as JsonSchema, resolve, depth + 1);
      return Array.from({ length: Math.max(1, Number(s.minItems ?? 1)) }, () => item);
    }
    case 'string':
      return FORMATS[s.format as string] ?? 'string';
    case 'integer':
    case 'number':
      return typeof s.minimum === 'number' ? Math.max(0, s.minimum) : 0;
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return undefined;
  }
}
