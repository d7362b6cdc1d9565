import { expect } from 'chai';
import { PassThrough, Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { peekHead } from '../../src/csv/peek-head.ts';

describe('peekHead', () => {
  it('should return the first lines and leave the stream whole', async () => {
    const source = Readable.from(
      ['a,b', '\n1,2\n', '3,4\n'].map((s) => Buffer.from(s)),
      { objectMode: false },
    );
    const { head, stream } = await peekHead(source, { lines: 1, limit: 1024 });
    expect(head.toString()).to.equal('a,b\n1,2\n');
    expect(stream).to.equal(source);
    expect(await text(stream)).to.equal('a,b\n1,2\n3,4\n');
  });

  it('should stop at the byte limit', async () => {
    const source = new PassThrough();
    source.write('x'.repeat(10));
    source.write('y'.repeat(10));
    const { head, stream } = await peekHead(source, { lines: 1, limit: 15 });
    expect(head.length).to.equal(20);
    source.end('\n');
    expect(await text(stream)).to.equal(`${'x'.repeat(10)}${'y'.repeat(10)}\n`);
  });

  it('should hand back a new stream when the peek reached the end', async () => {
    const { head, stream } = await peekHead(Readable.from([Buffer.from('a,b')], { objectMode: false }), {
      lines: 1,
      limit: 1024,
    });
    expect(head.toString()).to.equal('a,b');
    expect(await text(stream)).to.equal('a,b');
    const empty = await peekHead(Readable.from([], { objectMode: false }), { lines: 1, limit: 1024 });
    expect(empty.head.length).to.equal(0);
    expect(await text(empty.stream)).to.equal('');
  });

  it("should reject with the stream's error", async () => {
    const source = new PassThrough();
    setImmediate(() => source.destroy(new Error('broken')));
    const error = await peekHead(source, { lines: 1, limit: 1024 }).catch((e: unknown) => e);
    expect(error).to.have.property('message', 'broken');
  });
});
