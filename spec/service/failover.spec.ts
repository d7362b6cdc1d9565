import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { JobLifecycleEvent } from '../../src/jobs/job.ts';
import { startServiceProcess, type Child } from '../helpers/child-process.ts';
import { generateCsv } from '../helpers/csv-job-fixture.ts';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.ts';
import { startTestPostgres, type TestPostgres } from '../helpers/test-postgres.ts';
import { startTestS3, type TestS3 } from '../helpers/test-s3.ts';
import { startTestService, waitForJob, type TestService } from '../helpers/test-service.ts';

const MIB = 1024 * 1024;
const RECORDS = 100_000;
const KEY = 'failover/big.csv';
const LEASE_MS = 3_000;

/**
 * The failover target with a real crash: the instance running a job is
 * SIGKILLed mid-job (its process, not a stop), and another instance takes the
 * job over once the lease runs out, runs it as its next attempt, and writes
 * each output once.
 */
describe('failover after an instance is killed', function () {
  this.timeout(120_000);
  let postgres: TestPostgres;
  let s3: TestS3;
  let proxy: FaultProxy;
  let killed: (Child & { url: string }) | undefined;
  let survivor: TestService | undefined;
  let dataDir: string;

  before(async () => {
    [postgres, s3] = await Promise.all([startTestPostgres(), startTestS3()]);
    proxy = await startFaultProxy({ port: s3.server.port });
    dataDir = await mkdtemp(path.join(os.tmpdir(), 's3-csv-ingest-failover-'));
    await s3.client.send(new PutObjectCommand({ Bucket: 'ingest', Key: KEY, Body: generateCsv(RECORDS) }));
  });
  after(async () => {
    await killed?.kill();
    await survivor?.stop();
    await proxy.close();
    await Promise.all([postgres.close(), s3.close()]);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('should finish the job on another instance within the lease plus 5 s of the kill, plus its run time', async () => {
    const url = await postgres.createDatabase();
    const env = {
      DATABASE_URL: url,
      S3_FORCE_PATH_STYLE: 'true',
      S3_PART_SIZE: String(5 * MIB),
      JOB_LEASE_MS: String(LEASE_MS),
      JOB_CONCURRENCY: '1',
    };
    // The doomed instance's first part upload never gets through: it is mid-job, its rows half written, when killed.
    const parts = proxy.holdUntilReleased(
      (request) => request.method === 'PUT' && request.path.includes('partNumber='),
    );
    killed = await startServiceProcess({
      ...env,
      S3_ENDPOINT: proxy.endpoint,
      INSTANCE_ID: 'spec-killed',
      DATA_DIR: dataDir,
    });
    const response = await fetch(new URL('/v1/trigger', killed.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: KEY }),
    });
    expect(response.status).to.equal(202);
    const id = ((await response.json()) as { jobs: { id: string }[] }).jobs[0]!.id;
    await parts.arrived;

    survivor = await startTestService({ env: { ...env, S3_ENDPOINT: s3.endpoint, INSTANCE_ID: 'spec-survivor' } });
    const events: { at: number; event: JobLifecycleEvent }[] = [];
    survivor.service.events$.subscribe((event) => events.push({ at: Date.now(), event }));
    const before = await waitForJob(survivor, id, (job) => job['status'] === 'running');
    expect(before).to.include({ runner: 'spec-killed', attempts: 1 });

    await killed.kill();
    const killedAt = Date.now();
    expect((await killed.exited).signal).to.equal('SIGKILL');
    const done = await waitForJob(survivor, id, undefined, 60_000);
    const doneAt = Date.now();
    expect(done).to.include({ status: 'succeeded', attempts: 2, runner: 'spec-survivor' });
    const started = events.find(({ event }) => event.type === 'started' && event.job.id === id);
    expect(started?.event).to.deep.include({ type: 'started', attempt: 2 });
    const takeoverMs = started!.at - killedAt;
    const runMs = doneAt - started!.at;
    expect(takeoverMs, 'taken over within the lease plus 5 s').to.be.lessThan(LEASE_MS + 5_000);
    expect(doneAt - killedAt, 'done within the lease plus 5 s plus its run').to.be.lessThan(LEASE_MS + 5_000 + runMs);

    const rows = (await read(`processed/ingest/${KEY}/rows.ndjson`))
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => (JSON.parse(line) as { note: string }).note);
    expect(rows.length, 'every record once').to.equal(RECORDS);
    expect(
      rows.every((note, index) => note === `note ${index}, with a comma`),
      'in order, no duplicate',
    ).to.equal(true);
    const manifest = JSON.parse(await read(`processed/ingest/${KEY}/manifest.json`)) as Record<string, unknown>;
    expect(manifest).to.include({ jobId: id, attempt: 2, rows: RECORDS, rejected: 0 });
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      const { rows: stored } = await db.query('SELECT status, runner FROM jobs');
      expect(stored, 'one row, no duplicate job').to.deep.equal([{ status: 'succeeded', runner: 'spec-survivor' }]);
    } finally {
      await db.end();
    }
    console.log(
      `      failover: taken over ${takeoverMs} ms after SIGKILL (lease ${LEASE_MS} ms), then ran ${runMs} ms`,
    );
  });

  async function read(key: string): Promise<string> {
    const object = await s3.client.send(new GetObjectCommand({ Bucket: 'ingest', Key: key }));
    return object.Body!.transformToString('utf8');
  }
});
