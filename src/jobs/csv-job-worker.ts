// Entry of a job worker thread: runs CSV jobs (S3 read, parse, convert, serialise,
// upload) off the main thread, so the HTTP server stays responsive.
import { workerData } from 'node:worker_threads';
import { createPipelineRegistry } from '../csv/create-pipeline-registry.ts';
import type { BlockResult } from '../csv/parse-block.ts';
import type { BlockPermits } from '../csv/parse-csv-in-blocks.ts';
import type { Pipeline } from '../csv/pipeline-schema.ts';
import type { CsvJobResult } from './csv-job-result.ts';
import type { Job, JobProgress } from './job.ts';
import { createPoolBlockParser } from './create-pool-block-parser.ts';
import type { ParseBlockTask } from './parse-block-worker.ts';
import { runCsvJob, type CsvJobDeps } from './run-csv-job.ts';
import { createS3Client, type S3ClientConfig } from '../storage/create-s3-client.ts';
import { createGarbageCollector } from '../workers/collect-garbage.ts';
import { lowerThreadPriority } from '../workers/lower-thread-priority.ts';
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
 * Job threads yield to the main thread when the cores are busy (it answers HTTP, health
 * checks among it), and go before the parse threads (nice 10): they read the blocks those
 * parse and upload what they return.
 */
const JOB_THREAD_NICE = 5;
lowerThreadPriority(JOB_THREAD_NICE);

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

serveTasks<CsvJobTask, JobProgress, CsvJobResult>((task, { signal, progress, request }) =>
  runCsvJob(
    task.job,
    {
      ...deps,
      blocks: {
        ...data.blocks,
        parse: createPoolBlockParser({
          run: async (blockTask) =>
            (await request({ type: 'parse', ...blockTask } satisfies BlockRequest, [blockTask.port])) as BlockResult,
          garbage,
        }),
        permits: permitsOnPool(request),
      },
    },
    { signal, attempt: task.attempt, onProgress: progress, progressIntervalMs: data.progressIntervalMs },
  ),
);

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
