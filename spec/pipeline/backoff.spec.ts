import { expect } from 'chai';
import fc from 'fast-check';
import { backoff } from '../../src/pipeline/backoff.ts';

const baseMs = 100;
const maxMs = 1000;

/** The ceiling of the n-th retry: baseMs doubled per retry, capped at maxMs. */
const ceiling = (retry: number) => Math.min(maxMs, baseMs * 2 ** (retry - 1));

describe('backoff', () => {
  it('should double the delay with each retry', () => {
    const delay = backoff({ baseMs, maxMs, random: () => 1 });

    expect([1, 2, 3, 4].map(delay)).to.deep.equal([100, 200, 400, 800]);
  });

  it('should cap the delay at maxMs', () => {
    const delay = backoff({ baseMs, maxMs, random: () => 1 });

    expect([5, 6, 30, 2000].map(delay)).to.deep.equal([1000, 1000, 1000, 1000]);
  });

  it('should treat a retry number below 1 as the first retry', () => {
    const delay = backoff({ baseMs, maxMs, random: () => 1 });

    expect([0, -1].map(delay)).to.deep.equal([100, 100]);
  });

  it('should wait half the ceiling when the jitter is 0', () => {
    const delay = backoff({ baseMs, maxMs, random: () => 0 });

    expect([1, 2, 3, 4, 5, 6].map(delay)).to.deep.equal([50, 100, 200, 400, 500, 500]);
  });

  it('should scale the upper half of the ceiling by the jitter', () => {
    const delay = backoff({ baseMs, maxMs, random: () => 0.5 });

    expect([1, 2, 5].map(delay)).to.deep.equal([75, 150, 750]);
  });

  it('should stay between half and all of the ceiling for any jitter', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (retry, jitter) => {
          const delay = backoff({ baseMs, maxMs, random: () => jitter })(retry);
          return delay >= ceiling(retry) / 2 && delay <= ceiling(retry);
        },
      ),
    );
  });

  it('should use Math.random by default, within the same bounds', () => {
    const delay = backoff({ baseMs, maxMs });

    for (let retry = 1; retry <= 6; retry += 1) {
      const delays = Array.from({ length: 50 }, () => delay(retry));
      expect(Math.min(...delays)).to.be.at.least(ceiling(retry) / 2);
      expect(Math.max(...delays)).to.be.at.most(ceiling(retry));
    }
  });
});
