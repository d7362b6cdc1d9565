import { expect } from 'chai';
import { TestScheduler } from 'rxjs/testing';
import { AppError } from '../../src/errors.ts';
import type { JobEvent } from '../../src/pipeline/job-event.ts';
import { createJobQueue, type JobQueue } from '../../src/pipeline/job-queue.ts';

interface Job {
  readonly id: string;
}

const a: Job = { id: 'a' };
const b: Job = { id: 'b' };
const c: Job = { id: 'c' };

/** What a queue emitted, in order, as `queued <id>`, `job <id>`, `withdrawn <id>`, `cancel <id>`. */
function record(queue: JobQueue<Job>): string[] {
  const seen: string[] = [];
  queue.events$.subscribe((event) => seen.push(`${event.type} ${event.job.id}`));
  queue.jobs$.subscribe((job) => seen.push(`job ${job.id}`));
  queue.withdrawn$.subscribe((job) => seen.push(`withdrawn ${job.id}`));
  queue.cancels$.subscribe((id) => seen.push(`cancel ${id}`));
  return seen;
}

/** Calls `fn`, returns what it threw. */
function thrownBy(fn: () => void): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('Expected a throw.');
}

describe('createJobQueue', () => {
  it('should emit a queued event, then the job, for each job of a batch in order', () => {
    const queue = createJobQueue<Job>({ capacity: 5 });
    const seen = record(queue);

    queue.enqueue([a, b]);

    expect(seen).to.deep.equal(['queued a', 'job a', 'queued b', 'job b']);
  });

  it('should count waiting jobs in size() and the room left in free()', () => {
    const queue = createJobQueue<Job>({ capacity: 3 });
    expect([queue.size(), queue.free()]).to.deep.equal([0, 3]);

    queue.enqueue([a, b]);
    expect([queue.size(), queue.free()]).to.deep.equal([2, 1]);

    queue.claim(a);
    expect([queue.size(), queue.free()]).to.deep.equal([1, 2]);
  });

  it('should throw queue_full past capacity and enqueue nothing of the batch', () => {
    const queue = createJobQueue<Job>({ capacity: 2 });
    const seen = record(queue);
    queue.enqueue([a]);

    const error = thrownBy(() => queue.enqueue([b, c]));

    expect(error).to.be.instanceOf(AppError);
    expect(error).to.include({ code: 'queue_full', status: 429, retryable: false });
    expect([queue.size(), queue.free()]).to.deep.equal([1, 1]);
    expect(seen).to.deep.equal(['queued a', 'job a']);
    expect(queue.claim(b)).to.equal('cancelled');
  });

  it('should accept a batch that fills the queue exactly', () => {
    const queue = createJobQueue<Job>({ capacity: 2 });
    queue.enqueue([a]);
    expect(() => queue.enqueue([b, c]))
      .to.throw(AppError)
      .with.property('code', 'queue_full');

    queue.enqueue([b]);

    expect([queue.size(), queue.free()]).to.deep.equal([2, 0]);
  });

  it('should make room again when a job is claimed', () => {
    const queue = createJobQueue<Job>({ capacity: 1 });
    queue.enqueue([a]);
    expect(() => queue.enqueue([b]))
      .to.throw(AppError)
      .with.property('code', 'queue_full');

    queue.claim(a);
    queue.enqueue([b]);

    expect(queue.size()).to.equal(1);
  });

  it('should enqueue a job only once while it waits', () => {
    const queue = createJobQueue<Job>({ capacity: 1 });
    const seen = record(queue);
    queue.enqueue([a]);

    queue.enqueue([a]);

    expect(seen).to.deep.equal(['queued a', 'job a']);
    expect(queue.size()).to.equal(1);
  });

  it('should enqueue a job only once when a batch names it twice', () => {
    const queue = createJobQueue<Job>({ capacity: 2 });
    const seen = record(queue);

    queue.enqueue([a, a, b]);

    expect(seen).to.deep.equal(['queued a', 'job a', 'queued b', 'job b']);
    expect(queue.size()).to.equal(2);
  });

  it('should claim a waiting job once, and no other', () => {
    const queue = createJobQueue<Job>({ capacity: 2 });
    queue.enqueue([a]);

    expect(queue.claim(a)).to.equal('start');
    expect(queue.claim(a)).to.equal('cancelled');
    expect(queue.claim(b)).to.equal('cancelled');
  });

  it('should cancel a waiting job: it cannot be claimed, it is withdrawn at once and its id goes to cancels$', () => {
    const queue = createJobQueue<Job>({ capacity: 2 });
    const seen = record(queue);
    queue.enqueue([a, b]);

    expect(queue.cancel('a')).to.equal(true);

    expect(queue.claim(a)).to.equal('cancelled');
    expect([queue.size(), queue.free()]).to.deep.equal([1, 1]);
    expect(seen).to.deep.equal(['queued a', 'job a', 'queued b', 'job b', 'withdrawn a', 'cancel a']);
  });

  it('should hold waiting jobs once draining, and refuse new ones', () => {
    const queue = createJobQueue<Job>({ capacity: 2 });
    queue.enqueue([a]);

    queue.hold();

    expect(queue.claim(a)).to.equal('held');
    expect(() => queue.enqueue([b]))
      .to.throw(AppError)
      .with.property('code', 'shutting_down');
  });

  it('should pass on the cancel of a running job, answering false', () => {
    const queue = createJobQueue<Job>({ capacity: 2 });
    const seen = record(queue);
    queue.enqueue([a]);
    queue.claim(a);

    expect(queue.cancel('a')).to.equal(false);

    expect(seen).to.deep.equal(['queued a', 'job a', 'cancel a']);
  });

  it('should stream enqueues and cancels, and complete every stream on close', () => {
    const testScheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
    testScheduler.run(({ hot, expectObservable }) => {
      const queue = createJobQueue<Job>({ capacity: 5 });
      const actions = hot('  e---x---c', {
        e: () => queue.enqueue([a, b]),
        x: () => queue.cancel('a'),
        c: () => queue.close(),
      });
      const events = '       (pq)----|';
      const jobs = '         (ab)----|';
      const cancels = '      ----x---|';

      actions.subscribe((act) => act());
      const queued = (job: Job): JobEvent<Job, never, never> => ({ type: 'queued', job });
      expectObservable(queue.events$).toBe(events, { p: queued(a), q: queued(b) });
      expectObservable(queue.jobs$).toBe(jobs, { a, b });
      expectObservable(queue.cancels$).toBe(cancels, { x: 'a' });
    });
  });
});
