import picomatch from 'picomatch';
import { AppError } from '../errors.ts';
import { DEFAULT_PIPELINE } from './default-pipeline.ts';
import type { Pipeline } from './pipeline-schema.ts';

export interface PipelineRegistry {
  /** The pipeline of that name (`default` included), or undefined. */
  byName(name: string): Pipeline | undefined;
  /** The first pipeline whose `match` glob matches the key, else `default`. */
  forKey(key: string): Pipeline;
  /** Every pipeline name, `default` included, in definition order. */
  names(): string[];
  /** The pipeline a trigger names, else the key's; `unknown_pipeline` for a name not defined. */
  resolve(key: string, name: string | undefined): string;
}

/**
 * Looks pipelines up by name (a REST trigger's `pipeline`, the name stored on a
 * job) and by object key (first matching glob wins). A definition named
 * `default` replaces the built-in one.
 */
export function createPipelineRegistry(definitions: readonly Pipeline[]): PipelineRegistry {
  // Name → pipeline; the built-in default unless a definition takes its name.
  const byName = new Map<string, Pipeline>();
  for (const pipeline of definitions) byName.set(pipeline.name, pipeline);
  if (!byName.has(DEFAULT_PIPELINE.name)) byName.set(DEFAULT_PIPELINE.name, DEFAULT_PIPELINE);
  const fallback = byName.get(DEFAULT_PIPELINE.name) ?? DEFAULT_PIPELINE;
  // Compiled globs, in definition order.
  const matchers = definitions.flatMap((pipeline) =>
    pipeline.match === undefined ? [] : [{ pipeline, isMatch: picomatch(pipeline.match, { dot: true }) }],
  );

  return {
    byName: (name) => byName.get(name),
    forKey: (key) => matchers.find(({ isMatch }) => isMatch(key))?.pipeline ?? fallback,
    names: () => [...byName.keys()],
    resolve(key, name) {
      if (name === undefined) return this.forKey(key).name;
      if (!byName.has(name)) {
        throw new AppError(
          'unknown_pipeline',
          `There is no pipeline named "${name}"; defined: ${[...byName.keys()].join(', ')}.`,
        );
      }
      return name;
    },
  };
}
