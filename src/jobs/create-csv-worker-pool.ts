import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/config.ts';
import type { BlockResult } from '../csv/parse-block.ts';
import type { Pipeline } from '../csv/pipeline-schema.ts';
import type { S3ClientConfig } from '../storage/create-s3-client.ts';
import { createFairPermits } from '../workers/create-fair-permits.ts';
import { createWorkerPool, type RequestReply } from '../workers/worker-pool.ts';
import type { CsvJobResult } from './csv-job-result.ts';
import type { BlockRequest, CsvJobTask, CsvJobWorkerData } from './csv-job-worker.ts';
import type { JobProgress } from './job.ts';
import type { ParseBlockTask } from './parse-block-worker.ts';

/**
 * The worker threads that run CSV jobs, one job each, `JOB_CONCURRENCY` of them,
 * and the `WORKER_THREADS` parse threads their blocks share (closed with them).
 * Blocks in flight are bounded across jobs: about two per parse thread in all,
 * handed out fairly, besides the one each job is cutting.
 */
export function createCsvWorkerPool(config: Config, pipelines: readonly Pipeline[], s3: S3ClientConfig) {
  const extension = path.extname(fileURLToPath(import.meta.url));
  const blocksInFlight = 2 * config.workerThreads;
  const parsePool = createWorkerPool<ParseBlockTask, never, BlockResult>({
    size: config.workerThreads,
    entry: new URL(`./parse-block-worker${extension}`, import.meta.url),
  });
  const permits = createFairPermits(blocksInFlight);
  // Attempts whose permits are given back when they end, however they end.
  const holders = new Set<number>();
  const workerData: CsvJobWorkerData = {
    s3: { ...s3, maxSockets: config.s3.queueSize * 2 + 4 },
    pipelines,
    output: { bucket: config.buckets.output, prefix: config.buckets.outputPrefix },
    upload: { partSize: config.s3.partSize, queueSize: config.s3.queueSize, sse: config.s3.sse },
    csvMaxRecordBytes: config.csvMaxRecordBytes,
    progressIntervalMs: 500,
    blocks: { blockBytes: config.csvBlockBytes, maxInFlight: blocksInFlight },
  };
  const jobPool = createWorkerPool<CsvJobTask, JobProgress, CsvJobResult>({
    size: config.jobs.concurrency,
    entry: new URL(`./csv-job-worker${extension}`, import.meta.url),
    workerData,
    // Rows are short-lived strings: a small nursery (2 MB semi-spaces) keeps each worker's RSS down.
    youngGenerationMb: 6,
    // Each job is a group on the parse pool and for the permits, so jobs share the threads fairly.
    onRequest: async (payload, { signal, group }): Promise<RequestReply> => {
      const request = payload as BlockRequest;
      if (request.type === 'release') {
        permits.release(group);
        return { result: null };
      }
      if (request.type === 'permit') {
        if (!signal.aborted && !holders.has(group)) {
          holders.add(group);
          const giveBack = () => {
            holders.delete(group);
            permits.releaseAll(group);
          };
          signal.addEventListener('abort', giveBack, { once: true });
        }
        await permits.acquire(group, signal);
        return { result: null };
      }
      // The block and its NDJSON go straight between the two threads; only the channel passes here.
      const task: ParseBlockTask = { port: request.port, context: request.context };
      try {
        return { result: await parsePool.run(task, { signal, group, transfer: [task.port] }) };
      } finally {
        // A task dropped before it ran (its job cancelled) frees its block now; a port already sent on is untouched.
        task.port.close();
      }
    },
  });
  return {
    ...jobPool,
    /** The shared parse pool (to watch its tasks and threads). */
    parsePool,
    /** Blocks in flight now, over every job (permits held). */
    blocksInFlight: () => permits.held(),
    close: async () => {
      await jobPool.close();
      await parsePool.close();
    },
  };
}
