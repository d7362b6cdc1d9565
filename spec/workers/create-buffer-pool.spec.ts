import { expect } from 'chai';
import { createBufferPool } from '../../src/workers/create-buffer-pool.ts';

describe('createBufferPool', () => {
  it('should hand out its size for any smaller request, each at the start of memory of its own', () => {
    const pool = createBufferPool({ bytes: 1024, keep: 2 });
    const [a, b] = [pool.take(10), pool.take(1024)];
    for (const buffer of [a, b]) {
      expect(buffer.length).to.equal(1024);
      expect(buffer.byteOffset).to.equal(0);
      expect(buffer.buffer.byteLength).to.equal(1024);
    }
    expect(a.buffer).to.not.equal(b.buffer);
  });

  it('should reuse memory given back, keeping at most `keep` of it', () => {
    const pool = createBufferPool({ bytes: 1024, keep: 1 });
    const [a, b] = [pool.take(1024), pool.take(1024)];
    a.fill(7);
    expect(pool.giveBack(a.buffer as ArrayBuffer)).to.equal(true);
    expect(pool.giveBack(b.buffer as ArrayBuffer)).to.equal(false);
    const again = pool.take(512);
    expect(again.buffer).to.equal(a.buffer);
    expect(again[1023]).to.equal(7);
    expect(pool.take(512).buffer).to.not.equal(b.buffer);
  });

  it('should give fresh memory of the size asked past its size, and keep none of another size', () => {
    const pool = createBufferPool({ bytes: 1024, keep: 4 });
    const big = pool.take(5000);
    expect(big.length).to.equal(5000);
    expect(pool.giveBack(big.buffer as ArrayBuffer)).to.equal(false);
    expect(pool.giveBack(new ArrayBuffer(1000))).to.equal(false);
    expect(pool.take(1024).buffer).to.not.equal(big.buffer);
  });
});
