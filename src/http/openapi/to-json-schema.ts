import { z } from 'zod';

/** JSON Schema as the OpenAPI document holds it. */
export type JsonSchema = Record<string, unknown>;

/**
 * A zod schema as OpenAPI 3.1 JSON Schema (draft 2020-12). Requests are
 * described by what they accept (`io: 'input'`: before transforms and
 * defaults), answers by what they give. Schemas with a `meta({ id })` are moved
 * into `components` (collected in `shared`) and referred to by `$ref`.
 */
export function toJsonSchema(
  schema: z.ZodType,
  io: 'input' | 'output',
  shared: Record<string, JsonSchema>,
): JsonSchema {
  const converted = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  const { $schema: _dialect, $defs, ...root } = converted as JsonSchema & { $defs?: Record<string, JsonSchema> };
  for (const [id, definition] of Object.entries($defs ?? {})) shared[id] = rewriteRefs(definition) as JsonSchema;
  return rewriteRefs(root) as JsonSchema;
}

function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      key === '$ref' && typeof inner === 'string'
        ? inner.replace(/^#\/\$defs\//, '#/components/schemas/')
        : rewriteRefs(inner),
    ]),
  );
}
