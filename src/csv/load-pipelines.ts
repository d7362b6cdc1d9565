import { readFile } from 'node:fs/promises';
import { AppError } from '../errors.ts';
import { parsePipelines } from './parse-pipelines.ts';
import type { Pipeline } from './pipeline-schema.ts';

/**
 * Reads and validates `PIPELINES_FILE` once at start. No file: no definitions
 * (every key gets the default pipeline). An unreadable file, bad JSON or a bad
 * definition throws `config_invalid` naming the file, the pipeline and the field.
 */
export async function loadPipelines(file: string | undefined): Promise<readonly Pipeline[]> {
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
  return parsePipelines(json, `PIPELINES_FILE (${file})`);
}
