// Entry of a job worker thread: runs CSV jobs (S3 read, parse, convert, serialise,
// upload) off the main thread, so the HTTP server stays responsive.
import { workerData } from 'node:worker_threads';
import { blockRoomBytes } from '../csv/create-block-scanner.ts';
import { createPipelineRegistry } from '../csv/create-pipeline-registry.ts';
import type { BlockResult } from '../csv/parse-block.ts';
import type { BlockPermits } from '../csv/parse-csv-in-blocks.ts';
import type { Pipeline } from '../csv/pipeline-schema.ts';
import type { CsvJobResult } from './csv-job-result.ts';
import type { Job, JobProgress } from './job.ts';
import type { ParseBlockAnswer, ParseBlockTask } from './parse-block-worker.ts';
import { runCsvJob, type CsvJobDeps } from './run-csv-job.ts';
import { createS3Client, type S3ClientConfig } from '../storage/create-s3-client.ts';
import { createBufferPool, type BufferPool } from '../workers/create-buffer-pool.ts';
import { createGarbageCollector, type GarbageCollector } from '../workers/collect-garbage.ts';
import { openDirectChannel } from '../workers/direct-channel.ts';
import { serveTasks, type TaskContext } from '../workers/serve-tasks.ts';

/** What every CSV job worker is started with (cloneable: no clients, no functions). */
export interface CsvJobWorkerData {
  readonly s3: S3ClientConfig;
  readonly pipelines: readonly Pipeline[];
  readonly output: CsvJobDeps['output'];
  readonly upload: CsvJobDeps['upload'];
  readonly csvMaxRecordBytes: number;
  readonly progressIntervalMs: number;
  /** `CSV_BLOCK_BYTES`, and blocks in flight per job (about two per parse thread). */
  readonly blocks: { readonly blockBytes: number; readonly maxInFlight: number };
}

/** What a job asks the main thread for: a permit for one more block in flight, its return, a block parsed. */
export type BlockRequest =
  { readonly type: 'permit' } | { readonly type: 'release' } | ({ readonly type: 'parse' } & ParseBlockTask);

/** One task: an attempt of a job. */
export interface CsvJobTask {
  readonly job: Job;
  readonly attempt: number;
}

/**
 * Rooms a job keeps besides those its blocks are in: one to gather the next block
 * in, as a parsed block's room comes back.
 */
const SPARE_BLOCK_ROOMS = 1;

const data = workerData as CsvJobWorkerData;
// One block's worth: a big object's every block (its input and output exceed it), a small job rarely.
const garbage = createGarbageCollector(Math.max(data.blocks.blockBytes, 1024 * 1024));
const deps: CsvJobDeps = {
  client: createS3Client(data.s3),
  pipelines: createPipelineRegistry(data.pipelines),
  output: data.output,
  upload: data.upload,
  csvMaxRecordBytes: data.csvMaxRecordBytes,
};

serveTasks<CsvJobTask, JobProgress, CsvJobResult>((task, { signal, progress, request }) => {
  // The room each block is gathered in comes back from the parse thread with its NDJSON, for a later block.
  const rooms = createBufferPool({ bytes: blockRoomBytes(data.blocks.blockBytes), keep: SPARE_BLOCK_ROOMS });
  return runCsvJob(
    task.job,
    {
      ...deps,
      blocks: {
        ...data.blocks,
        allocate: rooms.take,
        parse: parseOnPool(request, garbage, rooms),
        permits: permitsOnPool(request),
      },
    },
    { signal, attempt: task.attempt, onProgress: progress, progressIntervalMs: data.progressIntervalMs },
  );
});

/**
 * Blocks go to the shared parse pool, which the main thread schedules; the
 * block and its NDJSON move straight between this thread and the parse thread
 * (see openDirectChannel), and the block's room comes back with the NDJSON. A
 * transform pipeline's block is copied instead: it is parsed again should the
 * scan have miscounted the lines before it.
 */
function parseOnPool(
  request: TaskContext<JobProgress>['request'],
  garbage: GarbageCollector,
  rooms: BufferPool,
): NonNullable<CsvJobDeps['blocks']>['parse'] {
  return async (block, context) => {
    const cut = block.bytes.byteLength;
    const sent = context.pipeline.transform === undefined ? block.bytes : ownCopy(block.bytes);
    // A block starts memory of its own, its room: the whole room moves, past the block's end too.
    const channel = openDirectChannel(sent, [sent.buffer as ArrayBuffer]);
    // The chunks the block was cut from died as it was cut; with them, what the uploads copied since.
    garbage.add(cut);
    garbage.collectIfDue();
    try {
      const task: BlockRequest = { type: 'parse', port: channel.port, context };
      const result = (await request(task, [channel.port])) as BlockResult;
      const answer = channel.answer() as ParseBlockAnswer;
      if (!rooms.giveBack(answer.room)) {
        // A room no block needs yet: it goes now, as it did when the parse thread let go of its block.
        garbage.add(answer.room.byteLength);
        garbage.collectIfDue();
      }
      // Moved buffers arrive as plain Uint8Arrays.
      const ndjson = answer.ndjson.map((piece) => Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength));
      garbage.add(ndjson.reduce((total, piece) => total + piece.byteLength, 0));
      return { ...result, ndjson };
    } finally {
      channel.close();
    }
  };
}

/** The permits for blocks in flight are the main thread's, shared by every job. */
function permitsOnPool(request: TaskContext<JobProgress>['request']): BlockPermits {
  return {
    acquire: async () => {
      await request({ type: 'permit' } satisfies BlockRequest);
    },
    release: () => {
      // Nothing waits on a release; one that fails does so because the attempt ended, which gives back all its permits.
      void request({ type: 'release' } satisfies BlockRequest).catch(() => undefined);
    },
  };
}

/** `bytes` in memory of their own (never a slice of Node's shared pool, which must not move). */
function ownCopy(bytes: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(copy);
  return copy;
}
