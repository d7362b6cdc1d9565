import { expect } from 'chai';
import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { AppError } from '../../../src/errors.ts';
import { jobEventMessages, type EventMessage, type JobChange } from '../../../src/http/events/job-event-messages.ts';
import { EMPTY_PROGRESS, type Job, type JobLifecycleEvent } from '../../../src/jobs/job.ts';
import { queuedJob } from '../../helpers/queued-job.ts';

function job(id: string): Job {
  return queuedJob({ id, key: `${id}.csv`, etag: '"e"', createdAt: '2024-01-01T00:00:00.000Z' });
}

const a = job('a');
const b = job('b');
const output = {
  bucket: 'ingest',
  rows: 'processed/ingest/a.csv/rows.ndjson',
  rejects: 'processed/ingest/a.csv/rejects.ndjson',
  manifest: 'processed/ingest/a.csv/manifest.json',
};
const progress = (of: Job, rows: number): JobLifecycleEvent => ({
  type: 'progress',
  job: of,
  attempt: 1,
  progress: { ...EMPTY_PROGRESS, rows },
});

/** The marble letters: S/T started a/b, 1-3 progress of a (rows), x/y progress of b, Z a succeeded. */
const events: Record<string, JobLifecycleEvent> = {
  S: { type: 'started', job: a, attempt: 1 },
  T: { type: 'started', job: b, attempt: 1 },
  1: progress(a, 1),
  2: progress(a, 2),
  3: progress(a, 3),
  x: progress(b, 1),
  y: progress(b, 2),
  Z: { type: 'succeeded', job: a, attempt: 1, result: { output } },
};

function letter(message: EventMessage): string {
  const change = message.data as JobChange;
  const found = Object.entries(events).find(
    ([, event]) =>
      event.type === message.event &&
      event.job.id === change.job.id &&
      (event.type !== 'progress' || event.progress.rows === change.job.progress?.rows),
  );
  return found?.[0] ?? '?';
}

describe('jobEventMessages', () => {
  let testScheduler: TestScheduler;

  beforeEach(() => {
    testScheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  it('should send the first progress at once and the latest one per interval', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const source = hot('S123 15ms Z', events);
      const expected = 'S1 9ms 3 7ms Z';

      expectObservable(jobEventMessages(source, { progressIntervalMs: 10 }).pipe(map(letter))).toBe(expected);
    });
  });

  it('should drop a waiting progress when the status changes, so it never follows the change', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const source = hot('S12Z|', events);
      const expected = 'S1-Z|';

      expectObservable(jobEventMessages(source, { progressIntervalMs: 10 }).pipe(map(letter))).toBe(expected);
    });
  });

  it('should throttle each job on its own, and send what waits before completing', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const source = hot('ST1x2y|', events);
      const expected = 'ST1x 8ms 2(y|)';

      expectObservable(jobEventMessages(source, { progressIntervalMs: 10 }).pipe(map(letter))).toBe(expected);
    });
  });

  it('should throttle progress of a job whose start it did not see (a client that joined late)', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const source = hot('12 20ms 3', events);
      const expected = '1 9ms 2 11ms 3';

      expectObservable(jobEventMessages(source, { progressIntervalMs: 10 }).pipe(map(letter))).toBe(expected);
    });
  });

  it('should let go of a job once it ends, and follow it again if it is re-run', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('S1Z-S2Z--', events);
      const subs = '^-------!';
      const expected = 'S1Z-S2Z--';

      expectObservable(jobEventMessages(source, { progressIntervalMs: 10 }).pipe(map(letter)), subs).toBe(expected);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should carry the changed fields: the whole job when queued, the output when succeeded, the error when failed', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const failure = new AppError('no_such_key', 'gone');
      const source = hot<JobLifecycleEvent>('qZf', {
        q: { type: 'queued', job: a },
        Z: events['Z']!,
        f: { type: 'failed', job: b, attempt: 3, error: failure },
      });
      const at = (ms: number) => new Date(ms).toISOString();
      expectObservable(jobEventMessages(source, { progressIntervalMs: 10 })).toBe('qZf', {
        q: { event: 'queued', data: { type: 'queued', at: at(0), job: a } },
        Z: {
          event: 'succeeded',
          data: {
            type: 'succeeded',
            at: at(1),
            job: { id: 'a', status: 'succeeded', attempts: 1, output, error: null, finishedAt: at(1) },
          },
        },
        f: {
          event: 'failed',
          data: {
            type: 'failed',
            at: at(2),
            job: {
              id: 'b',
              status: 'failed',
              attempts: 3,
              error: { code: 'no_such_key', message: 'gone', retryable: false },
              finishedAt: at(2),
            },
          },
        },
      });
    });
  });
});
