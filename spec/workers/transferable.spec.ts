import { expect } from 'chai';
import { transferable } from '../../src/workers/transferable.ts';

describe('transferable', () => {
  it("should move a view's memory only when the view covers all of it, never Node's shared pool", () => {
    const own = Buffer.allocUnsafeSlow(16);
    const pooled = Buffer.from('a small buffer');
    const slice = own.subarray(4);
    expect(pooled.buffer.byteLength, 'a slice of the pool').to.be.above(pooled.byteLength);
    expect(transferable(own, pooled, slice)).to.deep.equal([own.buffer]);
    expect(transferable(new Uint8Array(8))).to.have.length(1);
  });
});
