import { expect } from 'chai';
import { createBlockScanner, type CsvBlock } from '../../src/csv/create-block-scanner.ts';

type Options = Parameters<typeof createBlockScanner>[0];
const dialect: Options['dialect'] = { quote: '"', encoding: 'utf8' };

/** The blocks of `input` fed in chunks of `chunkSize` bytes. */
function cut(input: Buffer | string, options: Partial<Options> = {}, chunkSize = 1): CsvBlock[] {
  const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input);
  const scanner = createBlockScanner({ dialect, delimiter: ',', blockBytes: 1, ...options });
  const blocks: CsvBlock[] = [];
  for (let at = 0; at < bytes.length; at += chunkSize) blocks.push(...scanner.push(bytes.subarray(at, at + chunkSize)));
  blocks.push(...scanner.end());
  return blocks;
}
const texts = (blocks: CsvBlock[]) => blocks.map((block) => block.bytes.toString('latin1'));

describe('createBlockScanner', () => {
  it('should cut after each record delimiter, never in quotes nor between CR and LF', () => {
    const csv = 'a,b\r\n1,"x\r\ny"\n2,"p,""q""\n3,4"\r\n';
    for (const chunkSize of [1, 3, 100]) {
      expect(texts(cut(csv, {}, chunkSize)), `chunks of ${chunkSize}`).to.deep.equal([
        'a,b\r\n',
        '1,"x\r\ny"\n',
        '2,"p,""q""\n3,4"\r\n',
      ]);
    }
  });

  it('should take a quote inside an unquoted field as a character (relax_quotes)', () => {
    expect(texts(cut('12" pipe,x\nnext\n'))).to.deep.equal(['12" pipe,x\n', 'next\n']);
  });

  it('should take "" after a closing quote as text and keep the field open only for a doubled quote', () => {
    expect(texts(cut('"a"b\n"c"""\nd\n'))).to.deep.equal(['"a"b\n', '"c"""\n', 'd\n']);
  });

  it('should follow csv-parse\'s " escape when the quote is another character', () => {
    expect(texts(cut("'a\"'\nstill',x\ny\n", { dialect: { quote: "'", encoding: 'utf8' } }))).to.deep.equal([
      "'a\"'\nstill',x\n",
      'y\n',
    ]);
  });

  it('should gather blocks of at least blockBytes, the first one of its own size', () => {
    const blocks = cut('aa\nbb\ncc\ndd\nee\n', { firstBlockBytes: 2, blockBytes: 5 }, 4);
    expect(texts(blocks)).to.deep.equal(['aa\n', 'bb\ncc\n', 'dd\nee\n']);
    expect(blocks.map(({ index, offset }) => ({ index, offset }))).to.deep.equal([
      { index: 0, offset: 0 },
      { index: 1, offset: 3 },
      { index: 2, offset: 9 },
    ]);
  });

  it('should ramp the blocks after the first up to blockBytes, doubling, never below the first', () => {
    const text = Array.from({ length: 40 }, (_, i) => `${String(i).padStart(3, '0')}\n`).join('');
    const blocks = cut(text, { firstBlockBytes: 4, blockBytes: 32, rampBlocks: 3 }, 7);
    // Lines of 4 bytes: targets 4, then 4 (32 ÷ 8), 8, 16, then 32.
    expect(blocks.map((block) => block.bytes.length)).to.deep.equal([4, 4, 8, 16, 32, 32, 32, 32]);
    expect(texts(blocks).join('')).to.equal(text);
  });

  it('should shrink the blocks near the end of an object of known size, never below an eighth of blockBytes', () => {
    const text = Array.from({ length: 100 }, (_, i) => `${String(i).padStart(3, '0')}\n`).join('');
    const blocks = cut(text, { firstBlockBytes: 4, blockBytes: 64, tail: { totalBytes: text.length, share: 4 } }, 7);
    // Lines of 4 bytes, 400 in all: 64 while a quarter of what is left is more (after 196 bytes, 204 are left:
    // 51, so 52), then a quarter of what is left, down to 8 (64 ÷ 8).
    expect(blocks.map((block) => block.bytes.length)).to.deep.equal([
      4, 64, 64, 64, 52, 40, 28, 24, 16, 12, 8, 8, 8, 8,
    ]);
    expect(texts(blocks).join('')).to.equal(text);
  });

  it('should start every block at memory of its own, to be moved to a worker thread', () => {
    const blocks = cut('aa\nbb\ncc\n', {}, 2);
    expect(blocks.map((block) => block.bytes.byteOffset)).to.deep.equal([0, 0, 0]);
    expect(new Set(blocks.map((block) => block.bytes.buffer)).size).to.equal(3);
  });

  it('should gather a record longer than the room a block starts with in more room, whole', () => {
    const long = `${'x'.repeat(200_000)}\n`;
    const blocks = cut(`aa\n${long}bb\n`, { blockBytes: 3, firstBlockBytes: 3 }, 1000);
    expect(texts(blocks)).to.deep.equal(['aa\n', long, 'bb\n']);
    expect(blocks.map((block) => block.bytes.byteOffset)).to.deep.equal([0, 0, 0]);
  });

  it('should keep a UTF-8 BOM in block 0 and open a quote right after it', () => {
    expect(texts(cut(Buffer.from('\uFEFF"a\nb"\nc\n')))).to.deep.equal(['\u00ef\u00bb\u00bf"a\nb"\n', 'c\n']);
  });

  it('should not cut an object whose BOM changes the encoding', () => {
    expect(texts(cut(Buffer.from([0xff, 0xfe, 0x61, 0x0a, 0x62, 0x0a])))).to.have.length(1);
    expect(texts(cut(Buffer.from('\uFEFFa\nb\n'), { dialect: { quote: '"', encoding: 'latin1' } }))).to.have.length(1);
  });

  it('should hold an unterminated quote to the end, and hand over what it holds on drain', () => {
    expect(texts(cut('a\n"b\nc\n'))).to.deep.equal(['a\n', '"b\nc\n']);
    const scanner = createBlockScanner({ dialect, delimiter: ',', blockBytes: 1 });
    expect(texts(scanner.push(Buffer.from('a\n"b\nc')))).to.deep.equal(['a\n']);
    expect(scanner.pendingBytes).to.equal(4);
    expect(scanner.drain()).to.include({ index: 1, offset: 2 });
    expect(scanner.push(Buffer.from('d\n'))).to.deep.equal([]);
  });

  it('should give an empty object one empty block 0', () => {
    expect(cut('').map(({ index, bytes }) => ({ index, size: bytes.length }))).to.deep.equal([{ index: 0, size: 0 }]);
  });
});
