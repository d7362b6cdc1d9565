import { expect } from 'chai';
import { NEVER } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { AppError } from '../../src/errors.ts';
import type { RunUpdate } from '../../src/pipeline/job-event.ts';
import { processJobs } from '../../src/pipeline/process-jobs.ts';

describe('the job flow (docs/pipeline-authors.md)', () => {
  it('should retry a transient failure after its backoff, in virtual time', () => {
    const scheduler = new TestScheduler((actual, expected) => void expect(actual).to.deep.equal(expected));
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const job = { id: 'j1' };
      const unavailable = new AppError('s3_unavailable', 'S3 answered 503.');
      const failing = cold<RunUpdate<never, string>>('-#', {}, unavailable);
      const succeeding = cold<RunUpdate<never, string>>('--d|', { d: { kind: 'done', result: 'ok' } });
      const source = { jobs$: hot('a', { a: job }), cancels$: NEVER, claim: () => 'start' as const };
      const policy = { concurrency: 1, maxAttempts: 3, backoff: () => 100 }; // virtual ms: the spec takes none
      const events$ = processJobs(source, (_job, { attempt }) => (attempt === 1 ? failing : succeeding), policy);
      expectObservable(events$).toBe('sf 99ms t-d', {
        s: { type: 'started', job, attempt: 1 },
        f: { type: 'attempt_failed', job, attempt: 1, error: unavailable, retryInMs: 100 },
        t: { type: 'started', job, attempt: 2 },
        d: { type: 'succeeded', job, attempt: 2, result: 'ok' },
      });
      expectSubscriptions(failing.subscriptions).toBe('^!');
      expectSubscriptions(succeeding.subscriptions).toBe('101ms ^-!');
    });
  });
});
