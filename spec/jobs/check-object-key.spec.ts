import { expect } from 'chai';
import { checkObjectKey, objectKeyProblem } from '../../src/jobs/check-object-key.ts';

describe('objectKeyProblem', () => {
  it('should keep keys that S3 and a file system store as they are', () => {
    const good = [
      'a.csv',
      'iot/2024/02/12.csv.gz',
      ' spaced.csv ',
      'a b+c%2F.csv',
      '..a/b..',
      '.hidden/x',
      'ü/数据.csv',
      'processed',
      'processedx/a.csv',
      `${'é'.repeat(511)}xx`,
      '🙂.csv',
    ];
    expect(good.map((key) => objectKeyProblem(key, 'processed/'))).to.deep.equal(good.map(() => undefined));
  });

  it('should name the rule a key breaks', () => {
    expect(objectKeyProblem('', 'processed/')).to.match(/empty/);
    expect(objectKeyProblem(`${'é'.repeat(512)}x`, 'processed/')).to.equal(
      'it is 1025 bytes of UTF-8; a key is at most 1024',
    );
    expect(objectKeyProblem('a\u0000', 'processed/')).to.match(/U\+0000/);
    expect(objectKeyProblem('a\u001f', 'processed/')).to.match(/U\+001F/);
    expect(objectKeyProblem('a\u007f', 'processed/')).to.match(/U\+007F/);
    expect(objectKeyProblem('a\u009f', 'processed/')).to.match(/U\+009F/);
    expect(objectKeyProblem('/a', 'processed/')).to.equal('it starts with "/"');
    expect(objectKeyProblem('a/./b', 'processed/')).to.match(/segment 2 is "\."/);
    expect(objectKeyProblem('a/b/..', 'processed/')).to.match(/segment 3 is "\.\."/);
    expect(objectKeyProblem('a/', 'processed/')).to.match(/segment 2 is empty/);
    expect(objectKeyProblem('\udc00a', 'processed/')).to.match(/lone surrogate/);
    expect(objectKeyProblem('processed/a.csv', 'processed/')).to.match(/under OUTPUT_PREFIX \("processed\/"\)/);
  });

  it('should reserve no prefix when OUTPUT_PREFIX is empty', () => {
    expect(objectKeyProblem('processed/a.csv', '')).to.equal(undefined);
  });
});

describe('checkObjectKey', () => {
  it('should throw invalid_key with the key JSON-escaped, terminal controls escaped too, and cut', () => {
    const thrown = (key: string) => {
      try {
        checkObjectKey(key, 'processed/');
      } catch (error) {
        return error as { code: string; status: number; message: string };
      }
      throw new Error(`${JSON.stringify(key)} was accepted`);
    };
    expect(thrown('a\nb')).to.include({
      code: 'invalid_key',
      status: 400,
      message:
        'The key "a\\nb" is not valid: it contains the control character U+000A; control characters (C0, DEL, C1) are not allowed.',
    });
    expect(thrown('a\u0085\u2028/../b').message).to.contain('The key "a\\u0085\\u2028/../b"');
    expect(thrown(`/${'x'.repeat(200)}`).message).to.equal(
      `The key "/${'x'.repeat(79)}…" is not valid: it starts with "/".`,
    );
  });

  it('should let a valid key through', () => {
    expect(() => checkObjectKey('iot/a.csv', 'processed/')).to.not.throw();
  });
});
