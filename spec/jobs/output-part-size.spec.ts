import { expect } from 'chai';
import { MAX_PARTS, outputPartSize } from '../../src/jobs/output-part-size.ts';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

describe('outputPartSize', () => {
  it('should keep S3_PART_SIZE for sources whose outputs fit 10,000 parts at it, and for an unknown size', () => {
    expect(outputPartSize(8 * MiB, { size: 800 * 1024 ** 2, gzip: false })).to.equal(8 * MiB);
    expect(outputPartSize(8 * MiB, { size: 1.5 * GiB, gzip: true })).to.equal(8 * MiB);
    expect(outputPartSize(8 * MiB, { size: undefined, gzip: false })).to.equal(8 * MiB);
  });

  it('should raise the part size, in whole MiB, so that four times a huge source (ten times that gzipped) fits', () => {
    for (const [size, gzip] of [
      [30 * GiB, false],
      [123_456_789_012, false],
      [5 * GiB, true],
      [47 * GiB, true],
    ] as const) {
      const partSize = outputPartSize(8 * MiB, { size, gzip });
      expect(partSize % MiB, `${size} ${gzip}`).to.equal(0);
      expect(partSize, `${size} ${gzip}`).to.be.above(8 * MiB);
      expect(partSize * MAX_PARTS, `${size} ${gzip}`).to.be.at.least(size * 4 * (gzip ? 10 : 1));
      // Not more than needed: one MiB less would not fit.
      expect((partSize - MiB) * MAX_PARTS, `${size} ${gzip}`).to.be.below(size * 4 * (gzip ? 10 : 1));
    }
  });

  it("should never go past S3's 5 GiB part", () => {
    expect(outputPartSize(8 * MiB, { size: 20 * 1024 ** 4, gzip: true })).to.equal(5 * GiB);
  });
});
