import { expect } from 'chai';
import { mapConcurrent } from '../../src/jobs/map-concurrent.ts';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('mapConcurrent', () => {
  it('should run at most `limit` calls at once and keep the order of the items', async () => {
    let running = 0;
    let most = 0;
    const results = await mapConcurrent([5, 1, 4, 2, 3, 0, 6], 3, async (item, index) => {
      running += 1;
      most = Math.max(most, running);
      for (let i = 0; i < item; i += 1) await tick(); // later items finish first
      running -= 1;
      return `${index}:${item}`;
    });
    expect(results).to.deep.equal(['0:5', '1:1', '2:4', '3:2', '4:3', '5:0', '6:6']);
    expect(most).to.equal(3);
  });

  it('should reject with the first failure and start no call after it', async () => {
    const started: number[] = [];
    const failure = await mapConcurrent([0, 1, 2, 3, 4, 5], 2, async (item) => {
      started.push(item);
      await tick();
      if (item === 1) throw new Error('item 1 failed');
      return item;
    }).then(
      () => undefined,
      (error: Error) => error.message,
    );
    expect(failure).to.equal('item 1 failed');
    expect(started).to.deep.equal([0, 1, 2]);
  });

  it('should answer an empty list with an empty list', async () => {
    expect(await mapConcurrent([], 8, async () => 1)).to.deep.equal([]);
  });
});
