import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import sinon from 'sinon';
import { AppError } from '../../src/errors.ts';
import { createEmbeddedEventHandler } from '../../src/jobs/create-embedded-event-handler.ts';
import { createOwnWrites } from '../../src/jobs/create-own-writes.ts';
import type { JobRequest } from '../../src/jobs/accept-jobs.ts';
import { createLogger } from '../../src/logging/create-logger.ts';
import { pacedJob } from '../helpers/paced-job.ts';
import { startTestService, waitForJob, type TestService } from '../helpers/test-service.ts';

interface ListedJob {
  id: string;
  trigger: string;
  source: { key: string; etag: string };
}

describe('createEmbeddedEventHandler', () => {
  describe('in the service (embedded S3)', () => {
    let svc: TestService;

    before(async () => {
      svc = await startTestService();
    });
    after(async () => svc.stop());

    const jobsFor = async (key: string): Promise<ListedJob[]> => {
      const { jobs } = (await (await svc.fetch('/v1/jobs?limit=1000')).json()) as { jobs: ListedJob[] };
      return jobs.filter((job) => job.source.key === key);
    };
    const waitForJobOf = async (key: string): Promise<ListedJob[]> => {
      const deadline = Date.now() + 5000;
      for (;;) {
        const jobs = await jobsFor(key);
        if (jobs.length > 0) return jobs;
        if (Date.now() > deadline) throw new Error(`no job for ${key}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    };
    const put = (key: string, body = 'a,b\n1,2\n') =>
      svc.service.s3.send(new PutObjectCommand({ Bucket: 'ingest', Key: key, Body: body }));
    /** Events are handled in order: once a later object has its job, an earlier one's event has been handled. */
    const settle = async (tag: string) => {
      await put(`sentinel/${tag}.csv`);
      await waitForJobOf(`sentinel/${tag}.csv`);
    };

    it('should start an s3-event job for an object any client puts into the input bucket', async () => {
      const { ETag } = await put('dropped/a b+c.csv');
      const [job] = await waitForJobOf('dropped/a b+c.csv');
      expect(job).to.include({ trigger: 's3-event' });
      expect(job!.source.etag).to.equal(ETag);
    });

    it('should not start a second job when the same content is put again', async () => {
      await put('dropped/again.csv');
      await waitForJobOf('dropped/again.csv');
      await put('dropped/again.csv');
      await settle('again');
      expect(await jobsFor('dropped/again.csv')).to.have.length(1);
    });

    it('should skip keys under OUTPUT_PREFIX and removals', async () => {
      await put('processed/dropped/x.csv/rows.ndjson', '{}\n');
      await svc.service.s3.send(new DeleteObjectCommand({ Bucket: 'ingest', Key: 'dropped/a b+c.csv' }));
      await settle('outputs');
      expect(await jobsFor('processed/dropped/x.csv/rows.ndjson')).to.deep.equal([]);
    });

    it('should start no job for an upload with process=false, and only the upload job for process=true', async () => {
      for (const [key, process] of [
        ['up/quiet.csv', 'false'],
        ['up/loud.csv', 'true'],
      ] as const) {
        const data = new FormData();
        data.append('key', key);
        data.append('process', process);
        data.append('file', new Blob(['a\n1\n']), 'x.csv');
        expect((await svc.fetch('/v1/uploads', { method: 'POST', body: data })).status).to.equal(201);
      }
      await settle('uploads');
      expect(await jobsFor('up/quiet.csv')).to.deep.equal([]);
      expect((await jobsFor('up/loud.csv')).map((job) => job.trigger)).to.deep.equal(['upload']);
    });
  });

  describe('in the service, with the queue full', () => {
    it('should keep an event refused for a full queue and start its job once there is room, losing none', async () => {
      const svc = await startTestService({
        env: { QUEUE_CAPACITY: '1', JOB_CONCURRENCY: '1' },
        runJob: pacedJob({ everyMs: 20, updates: 10 }),
      });
      try {
        const keys = ['burst/1.csv', 'burst/2.csv', 'burst/3.csv', 'burst/4.csv', 'burst/5.csv'];
        await Promise.all(
          keys.map((key) => svc.service.s3.send(new PutObjectCommand({ Bucket: 'ingest', Key: key, Body: 'a\n1\n' }))),
        );
        const deadline = Date.now() + 15_000;
        let jobs: ListedJob[] = [];
        while (jobs.length < keys.length && Date.now() < deadline) {
          jobs = ((await (await svc.fetch('/v1/jobs?limit=1000')).json()) as { jobs: ListedJob[] }).jobs;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(jobs.map((job) => job.source.key).sort()).to.deep.equal(keys);
        for (const job of jobs) expect((await waitForJob(svc, job.id))['status']).to.equal('succeeded');
        const deferred = svc.logs().filter((line) => String(line['message']).startsWith('embedded S3 event deferred'));
        expect(deferred.length, 'some events had to wait').to.be.greaterThan(0);
      } finally {
        await svc.stop();
      }
    });
  });

  describe('alone', () => {
    const record = (key: string, bucket = 'ingest', eventName = 'ObjectCreated:Put') => ({
      eventName,
      s3: { bucket: { name: bucket }, object: { key, eTag: 'abc', size: 1 } },
    });
    const handlerWith = (outputPrefix: string, outputBucket = 'ingest') => {
      const asked: JobRequest[] = [];
      const ownWrites = createOwnWrites();
      const handle = createEmbeddedEventHandler({
        acceptJobs: async (requests) => {
          asked.push(...requests);
          return [];
        },
        logger: createLogger({ level: 'error', format: 'json' }),
        inputBucket: 'ingest',
        outputBucket,
        outputPrefix,
        ownWrites,
      });
      return { asked, handle, ownWrites };
    };

    it('should pass a created object on with its ETag quoted, and skip other buckets', async () => {
      const { asked, handle } = handlerWith('processed/');
      handle(record('a.csv'));
      handle(record('b.csv', 'elsewhere'));
      await Promise.resolve();
      expect(asked).to.deep.equal([{ bucket: 'ingest', key: 'a.csv', etag: '"abc"', size: 1 }]);
    });

    it('should tell outputs by their names when OUTPUT_PREFIX is empty, so outputs never start jobs', async () => {
      const { asked, handle } = handlerWith('');
      for (const key of ['a.csv/rows.ndjson', 'a.csv/rejects.ndjson', 'a.csv/manifest.json', 'a.csv'])
        handle(record(key));
      await Promise.resolve();
      expect(asked.map((request) => request.key)).to.deep.equal(['a.csv']);
    });

    it('should offer events refused for a full queue again after retryMs, in arrival order, until close()', async () => {
      // Only the handler's retry timer is faked: nothing else here waits.
      const clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      try {
        const offered: string[] = [];
        let room = 0;
        const handle = createEmbeddedEventHandler({
          acceptJobs: async (requests) => {
            offered.push(requests[0]!.key);
            if (room === 0) throw new AppError('queue_full', 'The job queue is full.');
            room -= 1;
            return [];
          },
          logger: createLogger({ level: 'error', format: 'json' }),
          inputBucket: 'ingest',
          outputBucket: 'ingest',
          outputPrefix: 'processed/',
          ownWrites: createOwnWrites(),
          retryMs: 1000,
        });
        handle(record('1.csv'));
        await clock.tickAsync(0);
        for (const key of ['2.csv', '3.csv']) handle(record(key));
        await clock.tickAsync(999);
        expect(offered, 'the first refused, the others kept behind it').to.deep.equal(['1.csv']);
        room = 2;
        await clock.tickAsync(1);
        expect(offered, 'room for two: the third refused again').to.deep.equal(['1.csv', '1.csv', '2.csv', '3.csv']);
        handle.close();
        room = 1;
        await clock.tickAsync(10_000);
        expect(offered, 'nothing offered once closed').to.have.length(4);
      } finally {
        clock.restore();
      }
    });

    it('should skip objects being written by the upload endpoint, and those it just wrote (same ETag)', async () => {
      const { asked, handle, ownWrites } = handlerWith('processed/');
      const end = ownWrites.begin('ingest', 'mine.csv');
      handle(record('mine.csv'));
      end('"abc"');
      handle(record('mine.csv'));
      await Promise.resolve();
      expect(asked).to.deep.equal([]);
    });
  });
});
