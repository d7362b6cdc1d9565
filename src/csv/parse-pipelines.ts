import path from 'node:path';
import type { z } from 'zod';
import { AppError } from '../errors.ts';
import { pipelinesFileSchema, type Pipeline } from './pipeline-schema.ts';

/**
 * Validates the parsed JSON of `PIPELINES_FILE`; a `transform` path is made
 * absolute from `directory` (the file's). A bad definition throws
 * `config_invalid` with one message naming, for each problem, the pipeline and
 * the field at fault.
 */
export function parsePipelines(
  json: unknown,
  origin = 'PIPELINES_FILE',
  directory = process.cwd(),
): readonly Pipeline[] {
  const parsed = pipelinesFileSchema.safeParse(json);
  if (parsed.success) {
    return Object.freeze(
      parsed.data.pipelines.map((pipeline) =>
        Object.freeze(
          pipeline.transform === undefined
            ? pipeline
            : { ...pipeline, transform: path.resolve(directory, pipeline.transform) },
        ),
      ),
    );
  }
  const problems = parsed.error.issues.map((issue) => describeIssue(json, issue));
  throw new AppError('config_invalid', `Invalid ${origin} — ${problems.join('; ')}`, {
    details: problems,
    cause: parsed.error,
  });
}

function describeIssue(json: unknown, issue: z.core.$ZodIssue): string {
  const [root, index, ...field] = issue.path;
  if (root !== 'pipelines' || typeof index !== 'number') {
    return `${issue.path.map(String).join('.') || '(file)'}: ${issue.message}`;
  }
  const name = nameAt(json, index);
  const where = name === undefined ? `pipelines[${index}]` : `pipeline "${name}" (pipelines[${index}])`;
  return `${where} ${field.map(String).join('.') || '(definition)'}: ${issue.message}`;
}

function nameAt(json: unknown, index: number): string | undefined {
  const pipelines = (json as { pipelines?: unknown } | null)?.pipelines;
  const entry = Array.isArray(pipelines) ? (pipelines[index] as { name?: unknown } | undefined) : undefined;
  return typeof entry?.name === 'string' ? entry.name : undefined;
}
