// The claim-overhead part of `npm run bench` (`--only claims`): many tiny jobs through one
// instance on its embedded SQLite store, then through two instances sharing one PostgreSQL
// (claims, leases, notifications). Each job's own work is a few bytes, so what is left is the
// cost of accepting, storing, claiming and recording a job.
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { startServiceProcess, type Child } from '../spec/helpers/child-process.ts';
import { startTestPostgres } from '../spec/helpers/test-postgres.ts';
import { mapConcurrent } from '../src/jobs/map-concurrent.ts';
import { cpuSecondsOf, cpuSecondsOfTree, round } from './measure.ts';
import { stopService, timed } from './run-jobs.ts';

export interface ClaimsContext {
  readonly dir: string;
  /** The service's environment as the bench starts it (S3, pipelines, JOB_CONCURRENCY). */
  readonly env: Record<string, string>;
  readonly nodeArgs: readonly string[];
  readonly s3: Child;
  readonly client: S3Client;
  readonly jobs: number;
}

type Row = { measured: unknown; ratio: string; target: string };
type Service = Child & { url: string };
type ClaimsRun = {
  seconds: number;
  jobsPerSecond: number;
  cores: { services: number; s3Server: number; postgres?: number };
};
/** Events per trigger request: S3 notifications carry a batch of records too. */
const BATCH = 50;

export async function runClaims(
  ctx: ClaimsContext,
): Promise<{ result: Record<string, unknown>; table: Record<string, Row> }> {
  const keys = Array.from({ length: ctx.jobs }, (_, i) => `claims/tiny-${String(i).padStart(5, '0')}.csv`);
  await mapConcurrent(keys, 16, (key, i) =>
    ctx.client.send(new PutObjectCommand({ Bucket: 'ingest', Key: key, Body: `id,name\n${i},tiny ${i}\n` })),
  );
  const env = { ...ctx.env, QUEUE_CAPACITY: String(ctx.jobs * 2) };
  const start = (name: string, extra: Record<string, string>) =>
    startServiceProcess({ ...env, ...extra, DATA_DIR: path.join(ctx.dir, 'svc', name) }, 'dist/main.js', ctx.nodeArgs);

  const sqlite = await start('claims-sqlite', {});
  const sqliteRun = await measuredRun([sqlite], keys, ctx.s3, undefined);
  await stopService(sqlite);

  const postgres = await startTestPostgres();
  try {
    const url = await postgres.createDatabase();
    const postmaster = await postmasterPid(postgres.adminUrl);
    const shared = { DATABASE_URL: url, JOB_LEASE_MS: '30000' };
    const instances = [
      await start('claims-pg-a', { ...shared, INSTANCE_ID: 'bench-a' }),
      await start('claims-pg-b', { ...shared, INSTANCE_ID: 'bench-b' }),
    ];
    const pgRun = await measuredRun(instances, keys, ctx.s3, postmaster);
    const runners = await runnersOf(instances[0]!);
    for (const instance of instances) await stopService(instance);

    const ratio = round(pgRun.jobsPerSecond / sqliteRun.jobsPerSecond, 2);
    return {
      result: {
        claimsJobs: ctx.jobs,
        claimsSqlite: sqliteRun,
        claimsPostgres: { ...pgRun, runners },
        claimsPostgresVsSqlite: ratio,
      },
      table: {
        [`${ctx.jobs} tiny jobs, one instance, SQLite (jobs/s)`]: {
          measured: sqliteRun.jobsPerSecond,
          ratio: `cores: service ${sqliteRun.cores.services}, S3 ${sqliteRun.cores.s3Server}`,
          target: '—',
        },
        [`${ctx.jobs} tiny jobs, two instances, PostgreSQL (jobs/s)`]: {
          measured: pgRun.jobsPerSecond,
          ratio: `${ratio} × SQLite; cores: services ${pgRun.cores.services}, S3 ${pgRun.cores.s3Server}, PostgreSQL ${pgRun.cores.postgres}`,
          target: '≥ 0.75 × SQLite',
        },
      },
    };
  } finally {
    await postgres.close();
  }
}

/** Triggers every key (spread over the instances, BATCH per request) and waits until all succeeded. */
async function measuredRun(
  instances: readonly Service[],
  keys: readonly string[],
  s3: Child,
  postmaster: number | undefined,
): Promise<ClaimsRun> {
  const pids = instances.map((instance) => instance.process.pid!);
  const cpu = async () => ({
    services: (await Promise.all(pids.map((pid) => cpuSecondsOf(pid)))).reduce((a, b) => a + b, 0),
    s3Server: await cpuSecondsOf(s3.process.pid!),
    postgres: postmaster === undefined ? 0 : await cpuSecondsOfTree(postmaster),
  });
  const before = await cpu();
  const run = await timed(async () => {
    const batches = Array.from({ length: Math.ceil(keys.length / BATCH) }, (_, i) =>
      keys.slice(i * BATCH, (i + 1) * BATCH),
    );
    await mapConcurrent(batches, 4, (batch, i) => trigger(instances[i % instances.length]!, batch));
    await waitForAll(instances[0]!, keys.length);
  });
  const after = await cpu();
  const cores = (field: 'services' | 's3Server' | 'postgres') => round((after[field] - before[field]) / run.seconds, 2);
  return {
    seconds: round(run.seconds, 2),
    jobsPerSecond: round(keys.length / run.seconds, 1),
    cores: {
      services: cores('services'),
      s3Server: cores('s3Server'),
      ...(postmaster === undefined ? {} : { postgres: cores('postgres') }),
    },
  };
}

async function trigger(instance: Service, keys: readonly string[]): Promise<void> {
  const records = keys.map((key) => ({
    eventName: 'ObjectCreated:Put',
    s3: { bucket: { name: 'ingest' }, object: { key } },
  }));
  const response = await fetch(`${instance.url}/v1/trigger`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ Records: records }),
  });
  if (response.status !== 202) throw new Error(`trigger: ${response.status} ${await response.text()}`);
}

/** Polls the job list (any instance answers for all) until `count` jobs succeeded; any failure stops the bench. */
async function waitForAll(instance: Service, count: number): Promise<void> {
  for (;;) {
    const failed = [...(await allJobs(instance, 'failed')), ...(await allJobs(instance, 'cancelled'))];
    if (failed.length > 0) throw new Error(`a job did not succeed: ${JSON.stringify(failed[0])}`);
    if ((await allJobs(instance, 'succeeded')).length >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Which instance ran how many jobs. */
async function runnersOf(instance: Service): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const job of await allJobs(instance)) counts[job.runner ?? 'none'] = (counts[job.runner ?? 'none'] ?? 0) + 1;
  return counts;
}

/** Every job (of a status), page by page. */
async function allJobs(instance: Service, status?: string): Promise<{ runner: string | null }[]> {
  const jobs: { runner: string | null }[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: '1000', ...(status ? { status } : {}), ...(cursor ? { cursor } : {}) });
    const response = await fetch(`${instance.url}/v1/jobs?${query}`);
    const page = (await response.json()) as { jobs: { runner: string | null }[]; next: string | null };
    jobs.push(...page.jobs);
    cursor = page.next;
  } while (cursor !== null);
  return jobs;
}

/** The postmaster's pid, from the data directory's postmaster.pid: its backends are its children. */
async function postmasterPid(adminUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ data_directory: string }>('SHOW data_directory');
    const lines = (await readFile(path.join(rows[0]!.data_directory, 'postmaster.pid'), 'utf8')).split('\n');
    return Number(lines[0]);
  } finally {
    await client.end();
  }
}
