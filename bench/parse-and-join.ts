// node --import tsx bench/parse-and-join.ts FILE THREADS: the block-parallel parse alone, as a job
// runs it at the defaults (8 MiB blocks, two permits per parse thread) but from disk into no-op
// streams, with THREADS parse threads (the compiled dist/jobs/parse-block-worker.js, so run
// `tsc -p tsconfig.build.json` first): how the parse and the ordered join scale with threads,
// with no S3 in the way. This process's main thread does what a job thread does (read, cut, join):
// its CPU is the part that does not grow with threads. Prints {"seconds", "cpuSeconds",
// "mainCpuSeconds", "rows"}.
import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import type { RowStats } from '../src/csv/create-ndjson-parser.ts';
import type { BlockResult } from '../src/csv/parse-block.ts';
import { parseCsvStream } from '../src/csv/parse-csv-stream.ts';
import { parsePipelines } from '../src/csv/parse-pipelines.ts';
import { createPoolBlockParser } from '../src/jobs/create-pool-block-parser.ts';
import type { ParseBlockTask } from '../src/jobs/parse-block-worker.ts';
import { createFairPermits } from '../src/workers/create-fair-permits.ts';
import { createWorkerPool } from '../src/workers/worker-pool.ts';
import { GENERATED_COLUMNS } from './generate-csv.ts';
import { threadTimesOf } from './measure.ts';

const MB = 1024 * 1024;
const [file, threadsArg] = process.argv.slice(2);
const threads = Number(threadsArg);
if (file === undefined || !(threads >= 1)) throw new Error('usage: parse-and-join.ts FILE THREADS');
const [benchPipeline] = parsePipelines({
  pipelines: [{ name: 'bench', match: 'bench/**', columns: GENERATED_COLUMNS, maxRejected: 10_000_000 }],
});
const pool = createWorkerPool<ParseBlockTask, never, BlockResult>({
  size: threads,
  entry: new URL('../dist/jobs/parse-block-worker.js', import.meta.url),
});
// As a job thread sends its blocks.
const parse = createPoolBlockParser({ run: (task) => pool.run(task, { transfer: [task.port] }) });
const permits = createFairPermits(2 * threads);
const sink = () =>
  new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
const stats: RowStats = { rows: 0, rejected: 0, dropped: 0, rowsBytes: 0, rejectsBytes: 0, columns: [] };
// The threads start (and load their code) before the clock does, as a service's have.
await Promise.all(
  Array.from({ length: threads }, (_, index) =>
    parse(
      { index: index + 1, offset: 0, bytes: Buffer.from('1\n') },
      {
        pipeline: benchPipeline!,
        delimiter: ',',
        maxRecordBytes: MB,
        index: index + 1,
        offset: 0,
        names: Object.keys(GENERATED_COLUMNS),
        last: true,
        key: 'warm-up.csv',
      },
    ),
  ),
);
const cpuBefore = process.cpuUsage();
const mainBefore = await threadTimesOf(process.pid);
const started = performance.now();
await parseCsvStream(createReadStream(file, { highWaterMark: MB }), {
  pipeline: benchPipeline!,
  maxRecordBytes: MB,
  blockBytes: 8 * MB,
  maxInFlight: 2 * threads,
  parse,
  permits: { acquire: () => permits.acquire('job'), release: () => permits.release('job') },
  rows: sink(),
  rejects: sink(),
  stats,
  signal: new AbortController().signal,
  key: 'bench/data.csv',
});
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
const mainCpuSeconds = (await threadTimesOf(process.pid)).cpuSeconds - mainBefore.cpuSeconds;
await pool.close();
console.log(JSON.stringify({ seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, mainCpuSeconds, rows: stats.rows }));
