import { expect } from 'chai';
import { AppError } from '../../src/errors.ts';
import { createFairPermits } from '../../src/workers/create-fair-permits.ts';

/** Lets every settled promise's callbacks run. */
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('createFairPermits', () => {
  it('should hold no more than its limit, granting a waiting acquire when one is released', async () => {
    const permits = createFairPermits(2);
    await permits.acquire('a');
    await permits.acquire('a');
    let third = false;
    const waiting = permits.acquire('a').then(() => (third = true));
    await tick();
    expect([permits.held(), permits.waiting(), third]).to.deep.equal([2, 1, false]);
    permits.release('a');
    await waiting;
    expect([permits.held(), permits.waiting()]).to.deep.equal([2, 0]);
  });

  it('should grant a released permit to the waiting group that holds the fewest, not the oldest wait', async () => {
    const permits = createFairPermits(3);
    for (let i = 0; i < 3; i += 1) await permits.acquire('big');
    const granted: string[] = [];
    const waits = [
      permits.acquire('big').then(() => granted.push('big')),
      permits.acquire('small').then(() => granted.push('small')),
    ];
    permits.release('big');
    await tick();
    expect(granted).to.deep.equal(['small']);
    permits.release('big');
    await Promise.all(waits);
    expect(granted).to.deep.equal(['small', 'big']);
  });

  it('should give back every permit of a group that ended and fail its waits with cancelled, serving the others', async () => {
    const permits = createFairPermits(2);
    await permits.acquire('ended');
    await permits.acquire('ended');
    const ownWait = permits.acquire('ended');
    const other = permits.acquire('other');
    permits.releaseAll('ended');
    await other;
    const error = await ownWait.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).to.be.instanceOf(AppError);
    expect((error as AppError).code).to.equal('cancelled');
    expect([permits.held(), permits.waiting()]).to.deep.equal([1, 0]);
  });

  it('should drop a wait whose signal aborts, rejecting it with cancelled', async () => {
    const permits = createFairPermits(1);
    await permits.acquire('a');
    const controller = new AbortController();
    const waiting = permits.acquire('b', controller.signal);
    controller.abort();
    const error = await waiting.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect((error as AppError).code).to.equal('cancelled');
    expect([permits.held(), permits.waiting()]).to.deep.equal([1, 0]);
    permits.release('a');
    expect(permits.held()).to.equal(0);
  });
});
