import { expect } from 'chai';
import { MessagePort } from 'node:worker_threads';
import { AppError } from '../../src/errors.ts';
import { transferable } from '../../src/workers/transferable.ts';
import { rejectionOf } from '../helpers/rejection-of.ts';
import { createWorkerPool, type WorkerPool } from '../../src/workers/worker-pool.ts';

type Payload = { kind: string; value?: string };
const entry = new URL('./fixtures/test-worker.ts', import.meta.url);

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(AppError);
    return error as AppError;
  }
  throw new Error('expected a rejection');
}

describe('createWorkerPool', () => {
  let pool: WorkerPool<Payload, number, string>;

  beforeEach(() => {
    pool = createWorkerPool({ size: 2, entry, cancelGraceMs: 300 });
  });
  afterEach(async () => pool.close());

  it('should run a task in a worker thread and pass its progress and result back', async () => {
    const seen: number[] = [];
    const result = await pool.run({ kind: 'echo', value: 'hello' }, { onProgress: (p) => seen.push(p) });
    expect(result).to.equal('hello');
    expect(seen).to.deep.equal([1, 2]);
    expect(pool.threads()).to.equal(1);
  });

  it('should keep an AppError code and retryability across the thread boundary', async () => {
    const error = await rejection(pool.run({ kind: 'fail' }));
    expect(error.code).to.equal('no_such_key');
    expect(error.retryable).to.equal(false);
  });

  it('should run no more tasks at once than its size, starting waiting ones as workers free up', async () => {
    const first = new AbortController();
    const a = pool.run({ kind: 'wait' }, { signal: first.signal });
    const b = pool.run({ kind: 'wait' }, { signal: new AbortController().signal });
    const c = pool.run({ kind: 'echo', value: 'third' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(pool.threads()).to.equal(2);
    first.abort();
    expect((await rejection(a)).code).to.equal('cancelled');
    expect(await c).to.equal('third');
    void b.catch(() => undefined);
  });

  it('should fail the task of a crashed worker as retryable worker_crashed, and replace the worker', async () => {
    const crashed = await rejection(pool.run({ kind: 'crash' }));
    expect(crashed.code).to.equal('worker_crashed');
    expect(crashed.retryable).to.equal(true);
    const thrown = await rejection(pool.run({ kind: 'throw-later' }));
    expect(thrown.code).to.equal('worker_crashed');
    expect(thrown.message).to.include('boom');
    expect(await pool.run({ kind: 'echo', value: 'still here' })).to.equal('still here');
  });

  it('should terminate a worker that ignores a cancel after the grace period', async () => {
    const controller = new AbortController();
    const stubborn = pool.run({ kind: 'stubborn' }, { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    controller.abort();
    expect((await rejection(stubborn)).code).to.equal('cancelled');
    expect(Date.now() - started).to.be.at.least(250);
    expect(pool.threads()).to.equal(0);
    expect(await pool.run({ kind: 'echo', value: 'after' })).to.equal('after');
  });

  it('should reject a task cancelled before it started without running it', async () => {
    const controller = new AbortController();
    controller.abort();
    expect((await rejection(pool.run({ kind: 'echo', value: 'x' }, { signal: controller.signal }))).code).to.equal(
      'cancelled',
    );
    expect(pool.threads()).to.equal(0);
  });

  it("should serve a task's request on the main thread, moving the buffers", async () => {
    const asking = createWorkerPool<Payload, number, string>({
      size: 1,
      entry,
      onRequest: async (payload) => {
        // A small Buffer is a slice of Node's shared pool: `transferable` copies it instead of moving the pool.
        const reply = Buffer.from(
          Buffer.from(payload as Uint8Array)
            .toString()
            .toUpperCase(),
        );
        return { result: reply, transfer: transferable(reply) };
      },
    });
    try {
      expect(await asking.run({ kind: 'ask', value: 'block' })).to.equal('BLOCK (0 bytes left here)');
    } finally {
      await asking.close();
    }
  });

  it('should move a payload and its answer between two workers, past the main thread that relays the task', async () => {
    const relayed: unknown[] = [];
    const takers = createWorkerPool<{ kind: string; port: MessagePort }, number, string>({ size: 1, entry });
    const senders = createWorkerPool<Payload, number, string>({
      size: 1,
      entry,
      onRequest: async (payload) => {
        relayed.push(payload);
        const { port } = payload as { port: MessagePort };
        return { result: await takers.run({ kind: 'take-direct', port }, { transfer: [port] }) };
      },
    });
    try {
      expect(await senders.run({ kind: 'send-direct', value: 'block' })).to.equal(
        'BLOCK, took 5 bytes (0 bytes left here)',
      );
      // The main thread saw the channel, never the bytes.
      expect(relayed).to.have.length(1);
      expect(Object.values(relayed[0] as object).map((value) => value instanceof MessagePort)).to.deep.equal([true]);
    } finally {
      await senders.close();
      await takers.close();
    }
  });

  it('should fail a request whose reply cannot be sent, instead of leaving the task waiting', async () => {
    const asking = createWorkerPool<Payload, number, string>({
      size: 1,
      entry,
      onRequest: async () => {
        const reply = Buffer.allocUnsafeSlow(4);
        // The same buffer named twice: postMessage refuses the whole message.
        return { result: reply, transfer: [reply.buffer as ArrayBuffer, reply.buffer as ArrayBuffer] };
      },
    });
    try {
      const error = await rejectionOf(asking.run({ kind: 'ask', value: 'block' }));
      expect(error.code).to.equal('internal');
      expect(error.message).to.match(/^A reply to a worker thread could not be sent: /);
    } finally {
      await asking.close();
    }
  });

  it('should start the waiting task of the group with the fewest tasks running, not the oldest', async () => {
    const first = new AbortController();
    const held = [
      pool.run({ kind: 'wait' }, { group: 'a', signal: first.signal }),
      pool.run({ kind: 'wait' }, { group: 'a' }),
    ];
    held.forEach((task) => task.catch(() => undefined));
    const finished: string[] = [];
    const later = pool.run({ kind: 'echo', value: 'a3' }, { group: 'a' }).then((value) => finished.push(value));
    const other = pool.run({ kind: 'echo', value: 'b1' }, { group: 'b' }).then((value) => finished.push(value));
    first.abort();
    await Promise.all([later, other]);
    expect(finished).to.deep.equal(['b1', 'a3']);
  });
});
