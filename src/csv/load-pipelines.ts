import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { AppError, isAppError } from '../errors.ts';
import { loadTransform, type TransformLoader } from './load-transform.ts';
import { parsePipelines } from './parse-pipelines.ts';
import type { Pipeline } from './pipeline-schema.ts';

/**
 * Reads and validates `PIPELINES_FILE` once at start, and loads each transform
 * module once to check it. No file: no definitions (every key gets the default
 * pipeline). An unreadable file, bad JSON, a bad definition or a transform that
 * does not load throws `config_invalid` naming the file, the pipeline and the
 * field or module.
 */
export async function loadPipelines(
  file: string | undefined,
  load: TransformLoader = loadTransform,
): Promise<readonly Pipeline[]> {
  if (file === undefined) return [];
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new AppError('config_invalid', `Invalid PIPELINES_FILE — cannot read ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new AppError('config_invalid', `Invalid PIPELINES_FILE — ${file} is not JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const origin = `PIPELINES_FILE (${file})`;
  const pipelines = parsePipelines(json, origin, path.dirname(path.resolve(file)));
  for (const pipeline of pipelines) {
    try {
      await load(pipeline);
    } catch (error) {
      const message = isAppError(error) ? error.message : String(error);
      throw new AppError('config_invalid', `Invalid ${origin} — ${message}`, { cause: error });
    }
  }
  return pipelines;
}
