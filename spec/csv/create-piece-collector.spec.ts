import { expect } from 'chai';
import { MessageChannel } from 'node:worker_threads';
import { once } from 'node:events';
import { createPieceCollector } from '../../src/csv/create-piece-collector.ts';
import { transferable } from '../../src/workers/transferable.ts';

const write = (stream: NodeJS.WritableStream, chunk: Buffer) =>
  new Promise<void>((resolve, reject) => stream.write(chunk, (error) => (error ? reject(error) : resolve())));

describe('createPieceCollector', () => {
  it('should keep the bytes written, in pieces of its size, each the whole of its own memory', async () => {
    const collector = createPieceCollector(1000);
    const written = Buffer.from(Array.from({ length: 2500 }, (_, i) => i % 251));
    // Small copies (slices of Node's shared pool), and one chunk larger than a piece.
    let at = 0;
    for (const size of [10, 90, 1700, 700]) {
      await write(collector.stream, Buffer.from(written.subarray(at, at + size)));
      at += size;
    }
    const pieces = collector.take();
    expect(pieces.map((piece) => piece.length)).to.deep.equal([1000, 1000, 500]);
    expect(Buffer.concat(pieces).equals(written)).to.equal(true);
    for (const piece of pieces) expect(transferable(piece)).to.deep.equal([piece.buffer]);
    expect(collector.take()).to.deep.equal([]);
  });

  it('should hand over pieces that can be moved to another thread without touching other buffers', async () => {
    const collector = createPieceCollector(64);
    const neighbour = Buffer.from('kept');
    await write(collector.stream, Buffer.from('x'.repeat(100)));
    const pieces = collector.take();
    const { port1, port2 } = new MessageChannel();
    const received = once(port2, 'message');
    port1.postMessage(pieces, transferable(...pieces));
    const [moved] = (await received) as [Uint8Array[]];
    port1.close();
    expect(Buffer.concat(moved).toString()).to.equal('x'.repeat(100));
    // Moved, not copied: the sender's pieces are detached; nothing else was.
    expect(pieces.map((piece) => piece.length)).to.deep.equal([0, 0]);
    expect(neighbour.toString()).to.equal('kept');
  });
});
