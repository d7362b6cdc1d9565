import { z } from 'zod';

/** The value types a pipeline column can have. */
export const COLUMN_TYPES = ['string', 'number', 'integer', 'boolean', 'timestamp'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

/** Text encodings a pipeline may declare for its objects (csv-parse decodes them). */
export const CSV_ENCODINGS = ['utf8', 'utf16le', 'latin1'] as const;

const columnType = z.enum(COLUMN_TYPES, { message: `expected one of ${COLUMN_TYPES.join(', ')}` });

/** A column: `{"type": "number", "required": true}`, or just its type as a string. */
const columnSchema = z.preprocess(
  (value) => (typeof value === 'string' ? { type: value } : value),
  z.strictObject({
    type: columnType.default('string'),
    required: z.boolean().default(false),
  }),
);

const oneCharacter = z.string().refine((value) => value.length === 1 && value !== '\r' && value !== '\n', {
  message: 'expected a single character other than a line break',
});

const csvSchema = z.strictObject({
  /** Field delimiter; unset: detected from the header line among `,` `;` `\t` `|`. */
  delimiter: oneCharacter.optional(),
  /** Quote character; `null` turns quoting off. */
  quote: oneCharacter.nullable().default('"'),
  /** Whether the first (non-skipped) line names the columns; without it, `columns` gives the names in order. */
  header: z.boolean().default(true),
  encoding: z.enum(CSV_ENCODINGS, { message: `expected one of ${CSV_ENCODINGS.join(', ')}` }).default('utf8'),
  /** Lines before the header (or the first record) that are not CSV. */
  skipLines: z.number().int().min(0).default(0),
  /**
   * With `utf8`: a record holding bytes that are not UTF-8 is rejected (`reject`), or
   * kept with U+FFFD in their place (`replace`).
   */
  invalidUtf8: z.enum(['reject', 'replace'], { message: 'expected reject or replace' }).default('reject'),
});

/** One entry of `PIPELINES_FILE`: how to read the objects whose key matches `match`. */
export const pipelineSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
      message: 'expected 1-64 letters, digits, dots, dashes or underscores, starting with a letter or digit',
    }),
    /** picomatch glob over the object key; unset: the pipeline is only picked by name. */
    match: z.string().min(1).optional(),
    csv: csvSchema.prefault({}),
    /** Column name → type; header columns not listed here are strings. */
    columns: z.record(z.string().min(1), columnSchema).default({}),
    /** Rejected records tolerated before the job fails; unset: no limit. */
    maxRejected: z.number().int().min(0).nullable().default(null),
    /**
     * A module whose `transform(row, context)` reshapes, drops or rejects each converted row: a path
     * relative to `PIPELINES_FILE` (absolute once loaded), `.ts` or `.js`.
     */
    transform: z
      .string()
      .regex(/\.(ts|mts|js|mjs)$/, { message: 'expected the path of a .ts or .js module' })
      .optional(),
  })
  .superRefine((pipeline, context) => {
    if (!pipeline.csv.header && Object.keys(pipeline.columns).length === 0) {
      context.addIssue({
        code: 'custom',
        path: ['columns'],
        message: 'required when csv.header is false (it names the fields in order)',
      });
    }
    if (pipeline.csv.delimiter !== undefined && pipeline.csv.delimiter === pipeline.csv.quote) {
      context.addIssue({ code: 'custom', path: ['csv', 'quote'], message: 'must differ from csv.delimiter' });
    }
  });

/** The whole `PIPELINES_FILE`. */
export const pipelinesFileSchema = z
  .strictObject({ pipelines: z.array(pipelineSchema) })
  .superRefine((file, context) => {
    const seen = new Set<string>();
    file.pipelines.forEach((pipeline, index) => {
      if (seen.has(pipeline.name)) {
        context.addIssue({
          code: 'custom',
          path: ['pipelines', index, 'name'],
          message: `duplicate pipeline name "${pipeline.name}"`,
        });
      }
      seen.add(pipeline.name);
    });
  });

/** A validated pipeline, every default filled in. */
export type Pipeline = z.output<typeof pipelineSchema>;
export type ColumnSpec = Pipeline['columns'][string];
export type CsvDialect = Pipeline['csv'];
