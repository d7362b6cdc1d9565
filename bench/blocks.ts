// The block-parallel part of `npm run bench` (`--only blocks`): one 64 MiB job at
// WORKER_THREADS=2 against WORKER_THREADS=1, one job at the defaults against the naive seed-style
// peer (bench/naive-peer.ts), and two jobs at once in a fresh service for peak RSS and /healthz.
// Then, on the same bytes from disk with no S3, what bounds them: csv-parse alone and the
// conversion alone on one core, and the block-parallel parse and join alone with 1, 2 and 4
// parse threads, from which one job on 8 and 16 cores is estimated.
import { CopyObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startServiceProcess, type Child } from '../spec/helpers/child-process.ts';
import {
  cpuSecondsOf,
  machineBusySecondsOf,
  memoryOf,
  round,
  sampleLatency,
  startControlServer,
  threadGroupsOf,
  threadTimesOf,
} from './measure.ts';
import { bestOf, runJobs, stopService, timed } from './run-jobs.ts';

const execFileAsync = promisify(execFile);
export interface BlocksContext {
  readonly dir: string;
  /** The service's environment as the bench starts it (S3, pipelines, JOB_CONCURRENCY). */
  readonly env: Record<string, string>;
  readonly nodeArgs: readonly string[];
  readonly s3: Child & { endpoint: string };
  readonly client: S3Client;
  /** Puts a local file at `key` in the bench bucket. */
  readonly put: (key: string, file: string) => Promise<void>;
  /** The 64 MiB CSV. */
  readonly file: string;
  readonly sizeMb: number;
}

type Row = { measured: unknown; ratio: string; target: string };
type Run = {
  seconds: number;
  /** `machine`: every process's and the kernel's, the bench's own included. */
  cores: { self: number; s3Server: number; machine?: number };
  /** The service's cores by thread: main, job threads, parse threads, the rest (V8's and libuv's helpers). */
  threads?: { main: number; job: number; parse: number; other: number };
};
/** A run of a bench script in its own process (it prints its own seconds). */
type Alone = { seconds: number; cpuSeconds?: number; mainCpuSeconds?: number };

export async function runBlocks(
  ctx: BlocksContext,
): Promise<{ result: Record<string, unknown>; table: Record<string, Row> }> {
  const { client, s3, sizeMb } = ctx;
  const KEYS = ['w2-a', 'w2-b', 'w1-a', 'w1-b', 'pair-a', 'pair-b'].map((name) => `bench/blocks-${name}.csv`);
  await ctx.put(KEYS[0]!, ctx.file);
  for (const key of KEYS.slice(1))
    await client.send(new CopyObjectCommand({ Bucket: 'ingest', Key: key, CopySource: `ingest/${KEYS[0]!}` }));
  const s3Pid = s3.process.pid!;
  const start = (name: string, extra: Record<string, string>) =>
    startServiceProcess(
      { ...ctx.env, ...extra, DATA_DIR: path.join(ctx.dir, 'svc', name) },
      'dist/main.js',
      ctx.nodeArgs,
    );
  // Cores = CPU seconds over wall seconds, for the measured process (every thread) and the S3 server.
  const measured = async (pid: () => number, work: () => Promise<unknown>): Promise<Run> => {
    const before = {
      self: await cpuSecondsOf(pid()),
      s3: await cpuSecondsOf(s3Pid),
      threads: await threadGroupsOf(pid()),
      machine: await machineBusySecondsOf(),
    };
    const run = await timed(work);
    const threads = await threadGroupsOf(pid());
    const coresOf = (group: keyof typeof threads) => round((threads[group] - before.threads[group]) / run.seconds, 2);
    return {
      seconds: run.seconds,
      cores: {
        self: round(((await cpuSecondsOf(pid())) - before.self) / run.seconds, 2),
        s3Server: round(((await cpuSecondsOf(s3Pid)) - before.s3) / run.seconds, 2),
        machine: round(((await machineBusySecondsOf()) - before.machine) / run.seconds, 2),
      },
      threads: { main: coresOf('main'), job: coresOf('job'), parse: coresOf('parse'), other: coresOf('other') },
    };
  };
  const alone = async (script: string, ...args: string[]): Promise<Alone> => {
    const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', script, ...args]);
    return JSON.parse(stdout) as Alone;
  };
  // The peer's own process ends with the run: it reports its CPU itself.
  const naiveRun = async (outKey: string): Promise<Run> => {
    const s3Before = await cpuSecondsOf(s3Pid);
    const { stdout } = await execFileAsync(process.execPath, [
      '--import',
      'tsx',
      'bench/naive-peer.ts',
      s3.endpoint,
      'ingest',
      KEYS[0]!,
      outKey,
    ]);
    const peer = JSON.parse(stdout) as { seconds: number; cpuSeconds: number };
    return {
      seconds: peer.seconds,
      cores: {
        self: round(peer.cpuSeconds / peer.seconds, 2),
        s3Server: round(((await cpuSecondsOf(s3Pid)) - s3Before) / peer.seconds, 2),
      },
    };
  };

  // Both services idle side by side; the runs interleave (this machine's speed drifts) and the
  // faster of two counts. WORKER_THREADS=2 is also the default here (2 cores), so its run is
  // "one job at the defaults".
  const w2 = await start('blocks-w2', { WORKER_THREADS: '2' });
  const w1 = await start('blocks-w1', { WORKER_THREADS: '1' });
  const w2Runs: Run[] = [];
  const w1Runs: Run[] = [];
  const naiveRuns: Run[] = [];
  for (const pass of ['a', 'b']) {
    w2Runs.push(
      await measured(
        () => w2.process.pid!,
        () => runJobs(w2, [`bench/blocks-w2-${pass}.csv`]),
      ),
    );
    w1Runs.push(
      await measured(
        () => w1.process.pid!,
        () => runJobs(w1, [`bench/blocks-w1-${pass}.csv`]),
      ),
    );
    naiveRuns.push(await naiveRun(`naive/out-${pass}.ndjson`));
  }
  await stopService(w2);
  await stopService(w1);

  // Two jobs at once in a fresh service at the defaults: its peak RSS, and /healthz probed every
  // 10 ms meanwhile, beside a trivial server in its own process (the machine's own latency), with
  // the service's main thread's CPU and its time waiting for a core.
  const pairService = await start('blocks-pair', {});
  const control = await startControlServer();
  const pairPid = pairService.process.pid!;
  const idleRss = (await memoryOf(pairPid)).rssMb;
  const mainBefore = await threadTimesOf(pairPid);
  const pairJobs = runJobs(pairService, KEYS.slice(-2));
  const [pair, healthz, controlLatency] = await Promise.all([
    timed(() => pairJobs),
    sampleLatency(`${pairService.url}/healthz`, 10, pairJobs),
    sampleLatency(control.url, 10, pairJobs),
  ]);
  const mainAfter = await threadTimesOf(pairPid);
  const pairRss = await memoryOf(pairPid);
  control.stop();
  await stopService(pairService);
  const mainThread = {
    cores: round((mainAfter.cpuSeconds - mainBefore.cpuSeconds) / pair.seconds, 2),
    waitingShare: round((mainAfter.waitSeconds - mainBefore.waitSeconds) / pair.seconds, 2),
  };

  // What bounds the figures, on the same bytes from disk, nothing else running: each twice,
  // interleaved, the faster counting.
  const bounds = {
    parse: [] as Alone[],
    convert: [] as Alone[],
    t1: [] as Alone[],
    t2: [] as Alone[],
    t4: [] as Alone[],
  };
  for (let pass = 0; pass < 2; pass += 1) {
    bounds.parse.push(await alone('bench/parse-only.ts', ctx.file));
    bounds.convert.push(await alone('bench/convert-only.ts', ctx.file));
    for (const threads of [1, 2, 4] as const)
      bounds[`t${threads}`].push(await alone('bench/parse-and-join.ts', ctx.file, String(threads)));
  }
  const fastest = (runs: readonly Alone[]) => bestOf(runs);
  const alonembs = (run: Alone) => round(sizeMb / run.seconds);
  const join = { t1: fastest(bounds.t1), t2: fastest(bounds.t2), t4: fastest(bounds.t4) };
  // Amdahl's law fitted to the 1 → 2 thread step of the parse and join alone, capped by the part that does
  // not grow with threads: the thread that reads, cuts and joins (MB per second of its CPU).
  const step = join.t1.seconds / join.t2.seconds;
  const serial = Math.min(1, Math.max(0, 2 / step - 1));
  const cap = sizeMb / (join.t2.mainCpuSeconds ?? NaN);
  const estimate = (cores: number) => {
    const speedup = 1 / (serial + (1 - serial) / cores);
    return { speedup: round(speedup, 1), MBs: round(Math.min(alonembs(join.t1) * speedup, cap)) };
  };

  const mbs = (run: Run, jobs = 1) => round((jobs * sizeMb) / run.seconds);
  const best = { w2: bestOf(w2Runs), w1: bestOf(w1Runs), naive: bestOf(naiveRuns) };
  const threadsRatio = round(best.w1.seconds / best.w2.seconds, 2);
  const naiveRatio = round(best.naive.seconds / best.w2.seconds, 2);
  const totalCores = (run: Run) => round(run.cores.self + run.cores.s3Server, 2);
  // What the cores allow. A run's speed is the machine's cores in use over its CPU per MB, so
  // W2 ÷ W1 = (cores in use, W2 ÷ W1) ÷ (CPU per MB, W2 ÷ W1). The defaults' ceiling is every
  // core in use at the defaults' own CPU per MB; nothing faster is possible without less CPU per MB.
  const cores = os.cpus().length;
  const machineCores = (run: Run) => run.cores.machine ?? NaN;
  const cpuPerMb = (run: Run) => (machineCores(run) * run.seconds) / sizeMb;
  const ceilingMBs = cores / cpuPerMb(best.w2);
  const coreBounds = {
    coresRatio: round(machineCores(best.w2) / machineCores(best.w1), 2),
    cpuPerMbRatio: round(cpuPerMb(best.w2) / cpuPerMb(best.w1), 2),
    defaultsCeilingMBs: round(ceilingMBs),
    ceilingVsW1: round(ceilingMBs / mbs(best.w1), 2),
    ceilingVsNaive: round(ceilingMBs / mbs(best.naive), 2),
  };
  const result = {
    blocksMachineCores: os.cpus().length,
    blocksDataMb: sizeMb,
    blocksW2MBs: mbs(best.w2),
    blocksW1MBs: mbs(best.w1),
    blocksW2VsW1: threadsRatio,
    blocksNaiveMBs: mbs(best.naive),
    blocksDefaultsVsNaive: naiveRatio,
    blocksW2RunsMBs: w2Runs.map((run) => mbs(run)),
    blocksW1RunsMBs: w1Runs.map((run) => mbs(run)),
    blocksNaiveRunsMBs: naiveRuns.map((run) => mbs(run)),
    blocksCoresW2: best.w2.cores,
    blocksCoresW1: best.w1.cores,
    blocksCoresNaive: best.naive.cores,
    blocksCpuSecondsPerMb: { w2: round(cpuPerMb(best.w2), 3), w1: round(cpuPerMb(best.w1), 3) },
    blocksCoreBounds: coreBounds,
    blocksTwoJobsMBs: round((2 * sizeMb) / pair.seconds),
    blocksTwoJobsIdleRssMb: round(idleRss),
    blocksTwoJobsPeakRssMb: round(pairRss.peakMb),
    blocksHealthzTwoJobsMs: healthz,
    blocksControlServerMs: controlLatency,
    blocksMainThreadTwoJobs: mainThread,
    blocksThreadCoresW2: best.w2.threads,
    blocksThreadCoresW1: best.w1.threads,
    blocksParseOnlyMBs: alonembs(fastest(bounds.parse)),
    blocksConvertOnlyMBs: alonembs(fastest(bounds.convert)),
    blocksParseAndJoinMBs: { t1: alonembs(join.t1), t2: alonembs(join.t2), t4: alonembs(join.t4) },
    blocksParseAndJoinRunsMBs: {
      t1: bounds.t1.map(alonembs),
      t2: bounds.t2.map(alonembs),
      t4: bounds.t4.map(alonembs),
    },
    blocksReadCutJoinMBsPerCore: round(cap),
    blocksEstimate: { serialShare: round(serial, 2), cores8: estimate(8), cores16: estimate(16) },
  };
  const table: Record<string, Row> = {
    [`one ${sizeMb} MiB job, WORKER_THREADS=2 (MB/s)`]: {
      measured: result.blocksW2MBs,
      ratio: `${threadsRatio} × WORKER_THREADS=1 (${result.blocksW1MBs})`,
      target: '≥ 1.4 ×',
    },
    'cores, WORKER_THREADS=2: service / S3 server': {
      measured: `${best.w2.cores.self} / ${best.w2.cores.s3Server}`,
      ratio: `${totalCores(best.w2)} of ${os.cpus().length}`,
      target: '',
    },
    'cores, WORKER_THREADS=1: service / S3 server': {
      measured: `${best.w1.cores.self} / ${best.w1.cores.s3Server}`,
      ratio: `${totalCores(best.w1)} of ${os.cpus().length}`,
      target: '',
    },
    "the machine's cores in use (every process), WORKER_THREADS=2 / 1": {
      measured: `${machineCores(best.w2)} / ${machineCores(best.w1)} of ${cores}`,
      ratio: `W2 ÷ W1 = ${coreBounds.coresRatio} × (cores in use) ÷ ${coreBounds.cpuPerMbRatio} × (CPU per MB)`,
      target: '',
    },
    'CPU per MB, all processes, WORKER_THREADS=2 / 1 (core-seconds)': {
      measured: `${result.blocksCpuSecondsPerMb.w2} / ${result.blocksCpuSecondsPerMb.w1}`,
      ratio:
        `every core at the defaults' CPU per MB: ${coreBounds.defaultsCeilingMBs} MB/s, ` +
        `${coreBounds.ceilingVsW1} × WORKER_THREADS=1 and ${coreBounds.ceilingVsNaive} × the naive peer`,
      target: '',
    },
    'naive peer, S3 → csv-parse → JSON → S3 (MB/s)': {
      measured: result.blocksNaiveMBs,
      ratio: `defaults: ${naiveRatio} × this`,
      target: '≥ 1.6 ×',
    },
    'cores, naive peer: peer / S3 server': {
      measured: `${best.naive.cores.self} / ${best.naive.cores.s3Server}`,
      ratio: `${totalCores(best.naive)} of ${os.cpus().length}`,
      target: '',
    },
    [`peak RSS, two ${sizeMb} MiB jobs at once (MB)`]: {
      measured: result.blocksTwoJobsPeakRssMb,
      ratio: `${result.blocksTwoJobsIdleRssMb} idle; jobs at ${result.blocksTwoJobsMBs} MB/s`,
      target: '≤ 350',
    },
    '/healthz p50/p99, two jobs (ms)': {
      measured: `${healthz.p50} / ${healthz.p99}`,
      ratio: `${healthz.n} samples; a trivial server meanwhile: ${controlLatency.p50} / ${controlLatency.p99}`,
      target: 'p99 ≤ 25',
    },
    "service's main thread during the two jobs: cores / share of time waiting for a core": {
      measured: `${mainThread.cores} / ${mainThread.waitingShare}`,
      ratio: '',
      target: '',
    },
    "cores, WORKER_THREADS=2, by thread: main / job thread / parse threads / V8's and libuv's helpers": {
      measured: [best.w2.threads?.main, best.w2.threads?.job, best.w2.threads?.parse, best.w2.threads?.other].join(
        ' / ',
      ),
      ratio: '',
      target: '',
    },
    "cores, WORKER_THREADS=1, by thread: main / job thread / parse thread / V8's and libuv's helpers": {
      measured: [best.w1.threads?.main, best.w1.threads?.job, best.w1.threads?.parse, best.w1.threads?.other].join(
        ' / ',
      ),
      ratio: '',
      target: '',
    },
    'alone, from disk, one core: csv-parse / csv-parse + conversion (MB/s)': {
      measured: `${result.blocksParseOnlyMBs} / ${result.blocksConvertOnlyMBs}`,
      ratio: `a job at the defaults: ${result.blocksW2MBs}`,
      target: '',
    },
    'alone, from disk: parse and join, 1 / 2 / 4 parse threads (MB/s)': {
      measured: `${result.blocksParseAndJoinMBs.t1} / ${result.blocksParseAndJoinMBs.t2} / ${result.blocksParseAndJoinMBs.t4}`,
      ratio: `${round(step, 2)} × and ${round(join.t1.seconds / join.t4.seconds, 2)} × one thread`,
      target: '',
    },
    'estimate, one job on 8 / 16 cores (parse and join, MB/s)': {
      measured: `${result.blocksEstimate.cores8.MBs} / ${result.blocksEstimate.cores16.MBs}`,
      ratio: `serial share ${round(serial, 2)}; reading, cutting and joining alone: ${round(cap)} MB/s a core`,
      target: '',
    },
  };
  return { result, table };
}
