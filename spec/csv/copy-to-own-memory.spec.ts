import { expect } from 'chai';
import { MessageChannel } from 'node:worker_threads';
import { copyToOwnMemory } from '../../src/csv/copy-to-own-memory.ts';

describe('copyToOwnMemory', () => {
  it('should join the parts in order', () => {
    const joined = copyToOwnMemory([Buffer.from('a,b\n'), Buffer.alloc(0), Buffer.from('1,2\n')]);
    expect(joined.toString()).to.equal('a,b\n1,2\n');
  });

  it('should give memory of its own that can move to another thread, leaving the parts whole', () => {
    // A small Buffer.from is a slice of Node's shared pool, which must never move.
    const pooled = Buffer.from('id,name\n1,ann\n');
    expect(pooled.buffer.byteLength, 'the part is a slice of a larger buffer').to.be.greaterThan(pooled.length);
    const copy = copyToOwnMemory([pooled]);
    expect(copy.byteOffset).to.equal(0);
    expect(copy.buffer.byteLength).to.equal(pooled.length);
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(copy, [copy.buffer as ArrayBuffer]);
    port1.close();
    port2.close();
    expect(copy.length, 'the copy moved').to.equal(0);
    expect(pooled.toString()).to.equal('id,name\n1,ann\n');
  });
});
