// npm run bench [-- --mb 256 --rss-mb 1024 --small-rss-mb 64 --claims 1000
//   --only speed,job-rss,upload-rss,blocks,claims]
// Generates its data under .bench/ (never committed), runs the S3 server and the service in
// their own processes, and prints a table and one JSON line. See BENCHMARKS.md.
import { CopyObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { parse } from 'csv-parse';
import { execFile, execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs, promisify } from 'node:util';
import { csvParseOptions } from '../src/csv/csv-parse-options.ts';
import { parsePipelines } from '../src/csv/parse-pipelines.ts';
import { createS3Client } from '../src/storage/create-s3-client.ts';
import { startS3Process, startServiceProcess } from '../spec/helpers/child-process.ts';
import { runBlocks } from './blocks.ts';
import { runClaims } from './claims.ts';
import { GENERATED_COLUMNS, generateCsv } from './generate-csv.ts';
import { cpuSecondsOf, memoryOf, round, sampleLatency } from './measure.ts';
import { bestOf, runJobs, stopService, timed } from './run-jobs.ts';
import { streamUpload } from './stream-upload.ts';

const execFileAsync = promisify(execFile);
const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '256' },
    'rss-mb': { type: 'string', default: '1024' },
    'small-rss-mb': { type: 'string', default: '64' },
    claims: { type: 'string', default: '1000' },
    only: { type: 'string', default: 'speed,job-rss,upload-rss,blocks,claims' },
  },
});
// Parts to run; all by default (a part alone is for working on it, the full run is what BENCHMARKS.md reports).
const parts = new Set(values.only.split(','));
const MB = 1024 * 1024;
const dataMb = Number(values.mb);
const rssMbSize = Number(values['rss-mb']);
// The memory runs are repeated with this smaller object: a peak that grows with the object would show.
const smallRssMbSize = Number(values['small-rss-mb']);
const dir = path.resolve('.bench');
process.env['AWS_ACCESS_KEY_ID'] ??= 'S3RVER';
process.env['AWS_SECRET_ACCESS_KEY'] ??= 'S3RVER';
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

await rm(path.join(dir, 's3'), { recursive: true, force: true });
await rm(path.join(dir, 'svc'), { recursive: true, force: true });
await mkdir(dir, { recursive: true });
// Each part's data only: a part alone need not generate the others' (the 1 GiB file takes minutes).
const memoryParts = parts.has('job-rss') || parts.has('upload-rss');
const csvFor = (needed: boolean, mb: number) =>
  needed ? ensureCsv(path.join(dir, `data-${mb}.csv`), mb * MB) : path.join(dir, `data-${mb}.csv`);
const dataFile = await csvFor(parts.has('speed'), dataMb);
const bigFile = await csvFor(memoryParts, rssMbSize);
const smallFile = await csvFor(memoryParts, smallRssMbSize);
// The block-parallel part's object: 64 MiB, as its targets name it.
const blocksFile = await csvFor(parts.has('blocks'), 64);
const warmFile = await csvFor(parts.has('upload-rss'), 16);
const pipelinesFile = path.join(dir, 'pipelines.json');
await writeFile(
  pipelinesFile,
  JSON.stringify({
    pipelines: [{ name: 'bench', match: 'bench/**', columns: GENERATED_COLUMNS, maxRejected: 10_000_000 }],
  }),
);

// 1. csv-parse alone, one core, same bytes and the job's own parser options, each record
// taken by a no-op stream (the cheapest consumer): the ceiling of one job. Measured three
// times across the run (before, between and after the jobs); the best counts.
const [benchPipeline] = parsePipelines({
  pipelines: [{ name: 'bench', match: 'bench/**', columns: GENERATED_COLUMNS }],
});
const parseOnlyRun = () =>
  timed(async () => {
    let records = 0;
    const sink = new Writable({
      objectMode: true,
      highWaterMark: 1024,
      write(_record, _encoding, callback) {
        records += 1;
        callback();
      },
    });
    await pipeline(
      createReadStream(dataFile, { highWaterMark: MB }),
      parse(csvParseOptions(benchPipeline!.csv, ',', MB)),
      sink,
    );
    return records;
  });
// 2. The job's own CSV → NDJSON step on one core, the same bytes, no S3 (bench/convert-only.ts,
// its own process): a job runs on one worker thread, so this bounds one job. Also run twice at
// once: how this machine's cores scale the same work, which bounds two jobs against one.
const convertOnlyRun = async () => {
  const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', 'bench/convert-only.ts', dataFile]);
  return JSON.parse(stdout) as { seconds: number };
};
const convertPairRun = async () => {
  const runs = await Promise.all([convertOnlyRun(), convertOnlyRun()]);
  return { seconds: Math.max(...runs.map((run) => run.seconds)) };
};
// The service runs compiled, as in the image (tsx would add its compiler to every thread's memory).
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
const size = parts.has('speed') ? (await stat(dataFile)).size : 0;

const s3 = await startS3Process({ directory: path.join(dir, 's3'), buckets: ['ingest'] });
const client = createS3Client({
  endpoint: s3.endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  checksums: 'WHEN_REQUIRED',
});
// Every speed job reads its own key (a finished job's key would be a duplicate); copies are cheap.
const SPEED_KEYS = ['one-a', 'one-b', 'two-a', 'two-b', 'two-c', 'two-d', 'probed-a', 'probed-b'].map(
  (name) => `bench/${name}.csv`,
);
if (parts.has('speed')) {
  await put(SPEED_KEYS[0]!, dataFile);
  for (const key of SPEED_KEYS.slice(1))
    await client.send(new CopyObjectCommand({ Bucket: 'ingest', Key: key, CopySource: `ingest/${SPEED_KEYS[0]!}` }));
}
if (parts.has('job-rss')) {
  await put('bench/big.csv', bigFile);
  await put('bench/small.csv', smallFile);
}

// The image's command and environment: node --max-semi-space-size=1 --expose-gc dist/main.js, with glibc's
// mmap threshold fixed and two malloc arenas (see Dockerfile).
const IMAGE_NODE_ARGS = ['--max-semi-space-size=1', '--expose-gc'];
const IMAGE_ENV = { MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_ARENA_MAX: '2' };
const env = {
  ...IMAGE_ENV,
  S3_ENDPOINT: s3.endpoint,
  S3_FORCE_PATH_STYLE: 'true',
  PIPELINES_FILE: pipelinesFile,
  JOB_CONCURRENCY: '2',
  LOG_LEVEL: 'info',
};
const mbOf = (bytes: number) => bytes / MB;
const result: Record<string, unknown> = {
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${round(os.totalmem() / 1024 ** 3, 0)} GiB, Node ${process.version}`,
  ...(parts.has('speed') ? { dataMb: round(mbOf(size)) } : {}),
};
const table: Record<string, { measured: unknown; ratio: string; target: string }> = {};

if (parts.has('speed')) {
  const parseRuns = [await parseOnlyRun()];
  const convertRuns = [await convertOnlyRun()];
  // Two at once, with nothing else running (here and at the end): the slower one's time counts.
  const pairRuns = [await convertPairRun()];
  const service = await startServiceProcess(
    { ...env, DATA_DIR: path.join(dir, 'svc', 'a') },
    'dist/main.js',
    IMAGE_NODE_ARGS,
  );
  // /healthz idle.
  const idle = await sampleLatency(`${service.url}/healthz`, 10, new Promise((resolve) => setTimeout(resolve, 3000)));
  // One job end to end (trigger → manifest written), then two at once, each twice and
  // interleaved (the machine's speed drifts); the faster of each counts, with the cores the
  // service and the S3 server used during it. Nothing else runs meanwhile.
  const measureJobs = async (keys: readonly string[]) => {
    const before = { service: await cpuSecondsOf(service.process.pid!), s3: await cpuSecondsOf(s3.process.pid!) };
    const run = await timed(() => runJobs(service, keys));
    return {
      seconds: run.seconds,
      cores: {
        service: round(((await cpuSecondsOf(service.process.pid!)) - before.service) / run.seconds, 2),
        s3Server: round(((await cpuSecondsOf(s3.process.pid!)) - before.s3) / run.seconds, 2),
      },
    };
  };
  const oneRuns = [await measureJobs(['bench/one-a.csv'])];
  const twoRuns = [await measureJobs(['bench/two-a.csv', 'bench/two-b.csv'])];
  parseRuns.push(await parseOnlyRun());
  convertRuns.push(await convertOnlyRun());
  oneRuns.push(await measureJobs(['bench/one-b.csv']));
  twoRuns.push(await measureJobs(['bench/two-c.csv', 'bench/two-d.csv']));
  const one = bestOf(oneRuns);
  const two = bestOf(twoRuns);
  const coresOne = one.cores;
  const cores = two.cores;
  // Two more jobs with /healthz probed every 10 ms meanwhile (the probe takes CPU of its own,
  // so it runs apart from the throughput runs).
  const probedRun = runJobs(service, SPEED_KEYS.slice(-2));
  const [probed, busy] = await Promise.all([
    timed(() => probedRun),
    sampleLatency(`${service.url}/healthz`, 10, probedRun),
  ]);
  await stopService(service);
  parseRuns.push(await parseOnlyRun());
  convertRuns.push(await convertOnlyRun());
  pairRuns.push(await convertPairRun());
  const parseOnly = bestOf(parseRuns);
  const convertOnly = bestOf(convertRuns);
  // Two jobs need twice the CPU of one for twice the bytes: on the machine's cores they can
  // reach at most cores ÷ (cores one job used, service and S3 server together) × one job.
  const pair = bestOf(pairRuns);
  const convertPairScaling = round((2 * convertOnly.seconds) / pair.seconds, 2);
  const twoJobsBound = round(os.cpus().length / (coresOne.service + coresOne.s3Server), 2);
  Object.assign(result, {
    parseOnlyMBs: round(mbOf(size) / parseOnly.seconds),
    oneJobMBs: round(mbOf(size) / one.seconds),
    oneJobVsParse: round(parseOnly.seconds / one.seconds, 2),
    twoJobsMBs: round((2 * mbOf(size)) / two.seconds),
    twoJobsVsOne: round((one.seconds * 2) / two.seconds, 2),
    oneJobRunsMBs: oneRuns.map((run) => round(mbOf(size) / run.seconds)),
    twoJobsRunsMBs: twoRuns.map((run) => round((2 * mbOf(size)) / run.seconds)),
    parseOnlyRunsMBs: parseRuns.map((run) => round(mbOf(size) / run.seconds)),
    convertOnlyMBs: round(mbOf(size) / convertOnly.seconds),
    convertOnlyVsParse: round(parseOnly.seconds / convertOnly.seconds, 2),
    convertOnlyRunsMBs: convertRuns.map((run) => round(mbOf(size) / run.seconds)),
    convertTwoAtOnceRunsMBs: pairRuns.map((run) => round((2 * mbOf(size)) / run.seconds)),
    convertTwoAtOnceVsOne: convertPairScaling,
    coresUsedDuringOneJob: coresOne,
    twoJobsVsOneBound: twoJobsBound,
    coresUsedDuringTwoJobs: cores,
    healthzIdleMs: idle,
    healthzTwoJobsMs: busy,
    twoJobsProbedMBs: round((2 * mbOf(size)) / probed.seconds),
  });
  Object.assign(table, {
    'one job (MB/s)': {
      measured: result['oneJobMBs'],
      ratio: `${String(result['oneJobVsParse'])} × parse-only`,
      target: '≥ 0.8 × parse-only',
    },
    'csv-parse only (MB/s)': { measured: result['parseOnlyMBs'], ratio: '', target: 'ceiling' },
    'CSV → NDJSON on one core, no S3 (MB/s)': {
      measured: result['convertOnlyMBs'],
      ratio: `${String(result['convertOnlyVsParse'])} × parse-only`,
      target: 'bound of one job',
    },
    'CSV → NDJSON, two processes at once (MB/s)': {
      measured: round((2 * mbOf(size)) / pair.seconds),
      ratio: `${convertPairScaling} × one alone`,
      target: 'how the cores scale',
    },
    'cores used, one job: service / S3 server': {
      measured: `${coresOne.service} / ${coresOne.s3Server}`,
      ratio: `two jobs ≤ ${twoJobsBound} × one job`,
      target: '',
    },
    'two jobs (MB/s)': {
      measured: result['twoJobsMBs'],
      ratio: `${String(result['twoJobsVsOne'])} × one job`,
      target: '≥ 1.6 × one job',
    },
    'cores used, two jobs: service / S3 server': {
      measured: `${cores.service} / ${cores.s3Server}`,
      ratio: '',
      target: '',
    },
    '/healthz p50/p99 idle (ms)': { measured: `${idle.p50} / ${idle.p99}`, ratio: '', target: '' },
    '/healthz p50/p99 two jobs (ms)': {
      measured: `${busy.p50} / ${busy.p99}`,
      ratio: `jobs at ${String(result['twoJobsProbedMBs'])} MB/s meanwhile`,
      target: 'p99 ≤ 25',
    },
  });
}

if (parts.has('job-rss')) {
  // Peak RSS during a job, in a fresh service process each: the small object, then the big one.
  const measureJob = async (key: string, sizeMb: number, name: string) => {
    const service = await startServiceProcess(
      { ...env, DATA_DIR: path.join(dir, 'svc', name) },
      'dist/main.js',
      IMAGE_NODE_ARGS,
    );
    const before = await memoryOf(service.process.pid!);
    const job = await timed(() => runJobs(service, [key]));
    const during = await memoryOf(service.process.pid!);
    await stopService(service);
    return { size: sizeMb, before: round(before.rssMb), peak: round(during.peakMb), MBs: round(sizeMb / job.seconds) };
  };
  const small = await measureJob('bench/small.csv', smallRssMbSize, 'b-small');
  const big = await measureJob('bench/big.csv', rssMbSize, 'b');
  const growth = round(big.peak / small.peak, 2);
  result['rssSmallJobMb'] = small;
  result['rssBigJobMb'] = big;
  result['rssJobBigVsSmall'] = growth;
  table[`peak RSS, ${rssMbSize} MiB job (MB)`] = { measured: big.peak, ratio: `${big.before} before`, target: '≤ 320' };
  table[`peak RSS, ${smallRssMbSize} MiB job (MB)`] = {
    measured: small.peak,
    ratio: `${rssMbSize} MiB: ${growth} × this`,
    target: '≤ 1.15 ×',
  };
}

if (parts.has('upload-rss')) {
  // Peak RSS during an upload, in a fresh service process each: the small file, then the big one.
  const measureUpload = async (file: string, sizeMb: number, name: string) => {
    const service = await startServiceProcess(
      { ...env, DATA_DIR: path.join(dir, 'svc', name) },
      'dist/main.js',
      IMAGE_NODE_ARGS,
    );
    const fresh = await memoryOf(service.process.pid!);
    // Idle as deployed: a running service answers its health checks (the image's HEALTHCHECK, a load balancer).
    await sampleLatency(`${service.url}/healthz`, 10, new Promise((resolve) => setTimeout(resolve, 2000)));
    const idle = await memoryOf(service.process.pid!);
    // A first small upload loads and compiles the upload path once, as any running service has.
    await streamUpload(`${service.url}/v1/uploads`, warmFile, { key: 'bench/warm-up.csv', process: 'false' });
    const warm = await memoryOf(service.process.pid!);
    const upload = await timed(() =>
      streamUpload(`${service.url}/v1/uploads`, file, { key: `bench/uploaded-${name}.csv`, process: 'false' }),
    );
    const during = await memoryOf(service.process.pid!);
    await stopService(service);
    return {
      size: sizeMb,
      fresh: round(fresh.rssMb),
      idle: round(idle.rssMb),
      afterWarmUp: round(warm.rssMb),
      peak: round(during.peakMb),
      growthFromIdle: round(during.peakMb - idle.rssMb),
      MBs: round(sizeMb / upload.seconds),
    };
  };
  const small = await measureUpload(smallFile, smallRssMbSize, 'c-small');
  const big = await measureUpload(bigFile, rssMbSize, 'c');
  const growth = round(big.peak / small.peak, 2);
  result['rssSmallUploadMb'] = small;
  result['rssBigUploadMb'] = big;
  result['rssUploadBigVsSmall'] = growth;
  table[`peak RSS, ${rssMbSize} MiB upload (MB)`] = {
    measured: big.peak,
    ratio: `+${big.growthFromIdle} over idle`,
    target: '≤ 250',
  };
  table[`peak RSS, ${smallRssMbSize} MiB upload (MB)`] = {
    measured: small.peak,
    ratio: `${rssMbSize} MiB: ${growth} × this`,
    target: '≤ 1.15 ×',
  };
}
if (parts.has('blocks')) {
  const blocks = await runBlocks({
    dir,
    env,
    nodeArgs: IMAGE_NODE_ARGS,
    s3,
    client,
    put,
    file: blocksFile,
    sizeMb: round(mbOf((await stat(blocksFile)).size)),
  });
  Object.assign(result, blocks.result);
  Object.assign(table, blocks.table);
}
if (parts.has('claims')) {
  const claims = await runClaims({ dir, env, nodeArgs: IMAGE_NODE_ARGS, s3, client, jobs: Number(values.claims) });
  Object.assign(result, claims.result);
  Object.assign(table, claims.table);
}
await s3.kill();
client.destroy();

console.table(table);
console.log(JSON.stringify(result));

async function ensureCsv(file: string, bytes: number): Promise<string> {
  const existing = await stat(file).catch(() => undefined);
  if (existing === undefined || Math.abs(existing.size - bytes) > 200) await generateCsv(file, bytes);
  return file;
}

async function put(key: string, file: string): Promise<void> {
  const upload = new Upload({
    client,
    params: { Bucket: 'ingest', Key: key, Body: createReadStream(file) },
    partSize: 64 * MB,
    queueSize: 2,
  });
  await upload.done();
}
