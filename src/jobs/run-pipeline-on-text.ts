import { Readable, Writable } from 'node:stream';
import type { z } from 'zod';
import { loadTransform, type LoadedTransform } from '../csv/load-transform.ts';
import { parsePipelines } from '../csv/parse-pipelines.ts';
import type { Pipeline, pipelineSchema } from '../csv/pipeline-schema.ts';
import type { Reject } from '../csv/format-reject.ts';
import type { Transform } from '../csv/transform.ts';
import type { CsvJobManifest } from './csv-job-result.ts';
import { runPipelineOnStream } from './run-pipeline-on-stream.ts';

/** A pipeline as `PIPELINES_FILE` defines it, whose `transform` may also be the function itself. */
export type PipelineDefinition = Omit<z.input<typeof pipelineSchema>, 'transform'> & {
  readonly transform?: string | Transform;
};

export interface PipelineTextRun {
  /** The rows a job would write, parsed. */
  readonly rows: Record<string, unknown>[];
  /** The rejects a job would write, with their lines and reasons. */
  readonly rejects: Reject[];
  readonly manifest: CsvJobManifest;
}

export interface PipelineTextOptions {
  /** The source key the transform is given (default `test.csv`). */
  readonly key?: string;
  /** Default 8 MiB as `CSV_BLOCK_BYTES`; a small value (at least 1) cuts the text into several blocks. */
  readonly blockBytes?: number;
}

/**
 * Runs a pipeline on CSV text as a job would run it on an object, for a
 * pipeline's unit tests: the same parse, conversion and transform as the dry
 * run (`runPipelineOnStream`). A `transform` given as a function is used as it
 * is; as a path, it is resolved from the working directory. Rejects with the
 * job's `AppError`.
 */
export async function runPipelineOnText(
  pipeline: Pipeline | PipelineDefinition,
  csvText: string,
  options: PipelineTextOptions = {},
): Promise<PipelineTextRun> {
  const { key = 'test.csv', blockBytes } = options;
  const inline = typeof pipeline.transform === 'function' ? pipeline.transform : undefined;
  // A function stands in for a module: the definition names a placeholder path that is never imported.
  const [definition] = parsePipelines({
    pipelines: [inline === undefined ? pipeline : { ...pipeline, transform: 'inline-transform.js' }],
  });
  const loaded: LoadedTransform | undefined =
    inline === undefined ? undefined : { transform: inline, module: `${inline.name || 'transform'} (inline)` };
  const rows: Buffer[] = [];
  const rejects: Buffer[] = [];
  const manifest = await runPipelineOnStream({
    pipeline: definition!,
    input: Readable.from([Buffer.from(csvText, 'utf8')]),
    key,
    rows: collect(rows),
    rejects: collect(rejects),
    ...(blockBytes === undefined ? {} : { blockBytes }),
    loadTransform: loaded === undefined ? loadTransform : async () => loaded,
  });
  return { rows: lines(rows) as Record<string, unknown>[], rejects: lines(rejects) as Reject[], manifest };
}

function collect(into: Buffer[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      into.push(Buffer.from(chunk));
      callback();
    },
  });
}

function lines(chunks: readonly Buffer[]): unknown[] {
  return Buffer.concat(chunks)
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as unknown);
}
