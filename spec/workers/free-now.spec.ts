import { expect } from 'chai';
import { freeNow } from '../../src/workers/free-now.ts';

const rssMb = () => process.memoryUsage().rss / 1024 / 1024;

describe('freeNow', () => {
  it('should give 64 MiB back to the system within a few turns of the event loop, no collection asked for', async () => {
    const memory = Buffer.allocUnsafeSlow(64 * 1024 * 1024).fill(1);
    const held = rssMb();
    freeNow(memory.buffer as ArrayBuffer);
    expect(memory.length, 'the view left here').to.equal(0);
    let given = 0;
    for (let turn = 0; turn < 100 && given < 40; turn += 1) {
      await new Promise((resolve) => setTimeout(resolve, 2));
      given = held - rssMb();
    }
    expect(given, 'MB given back').to.be.greaterThan(40);
  });
});
