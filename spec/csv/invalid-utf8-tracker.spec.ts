import { expect } from 'chai';
import { createInvalidUtf8Tracker } from '../../src/csv/invalid-utf8-tracker.ts';

/** Every invalid offset of `bytes` fed in chunks of `size`, taken before the end. */
function offsets(bytes: Buffer, size: number): number[] {
  const tracker = createInvalidUtf8Tracker();
  for (let at = 0; at < bytes.length; at += size) tracker.scan(bytes.subarray(at, at + size));
  tracker.end();
  const found: number[] = [];
  for (let at = 1; at <= bytes.length; at += 1) {
    const offset = tracker.takeBefore(at);
    if (offset !== undefined) found.push(offset);
  }
  return found;
}

describe('createInvalidUtf8Tracker', () => {
  it('should find nothing in valid UTF-8, whatever the chunk boundaries cut', () => {
    const text = Buffer.from('a,é,€,😀,\uFFFD (a real replacement character)\n', 'utf8');
    for (const size of [1, 2, 3, 5, text.length]) expect(offsets(text, size), `chunks of ${size}`).to.deep.equal([]);
  });

  it('should give the offset where each invalid sequence starts, the same for any chunking', () => {
    // 0x61 'a', then a lone continuation byte, an overlong 2-byte form, a surrogate, a truncated 3-byte sequence, 'z'.
    const bytes = Buffer.from([0x61, 0x80, 0x62, 0xc0, 0xaf, 0x63, 0xed, 0xa0, 0x80, 0x64, 0xe2, 0x82, 0x7a]);
    const expected = [1, 3, 4, 6, 7, 8, 10];
    for (const size of [1, 2, 3, 4, bytes.length])
      expect(offsets(bytes, size), `chunks of ${size}`).to.deep.equal(expected);
  });

  it('should count a sequence cut short by the end of the stream as invalid', () => {
    const bytes = Buffer.from([0x61, 0xf0, 0x9f, 0x98]);
    expect(offsets(bytes, 4)).to.deep.equal([1]);
    expect(offsets(bytes, 1)).to.deep.equal([1]);
  });

  it('should hand each offset to the first record that ends past it, once', () => {
    const tracker = createInvalidUtf8Tracker();
    tracker.scan(Buffer.from([0x61, 0x0a, 0x62, 0xff, 0x0a, 0xff, 0xff, 0x0a]));
    tracker.end();
    expect(tracker.takeBefore(2)).to.equal(undefined);
    expect(tracker.takeBefore(5)).to.equal(3);
    expect(tracker.takeBefore(8)).to.equal(5);
    expect(tracker.takeBefore(8)).to.equal(undefined);
  });
});
