import { pathToFileURL } from 'node:url';
import { AppError } from '../errors.ts';
import type { Pipeline } from './pipeline-schema.ts';
import type { Transform } from './transform.ts';

/** A pipeline's transform function, and the module it came from (for messages). */
export interface LoadedTransform {
  readonly transform: Transform;
  readonly module: string;
}

/** Gives a pipeline's transform (undefined: it has none). */
export type TransformLoader = (pipeline: Pick<Pipeline, 'name' | 'transform'>) => Promise<LoadedTransform | undefined>;

/**
 * Imports the module a pipeline's `transform` names (an absolute path, `.ts` or
 * `.js`) and takes its `transform` export. Each thread that parses imports it
 * once (the module cache keeps it). Throws `transform_failed`, naming the pipeline
 * and the module, when it does not load or exports no `transform` function.
 */
export async function loadTransform(
  pipeline: Pick<Pipeline, 'name' | 'transform'>,
): Promise<LoadedTransform | undefined> {
  const module = pipeline.transform;
  if (module === undefined) return undefined;
  const where = `The transform module ${module} of pipeline "${pipeline.name}"`;
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(module).href)) as Record<string, unknown>;
  } catch (error) {
    throw new AppError('transform_failed', `${where} cannot be loaded: ${firstLine(error)}`, { cause: error });
  }
  const transform = exports['transform'];
  if (typeof transform !== 'function') {
    throw new AppError('transform_failed', `${where} does not export a function named "transform".`);
  }
  return { transform: transform as Transform, module };
}

/** An error's first line (a syntax error's message goes on with the code it points at). */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.split('\n', 1)[0]!.trim();
}
