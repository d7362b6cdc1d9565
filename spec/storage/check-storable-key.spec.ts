import { expect } from 'chai';
import { checkBucketName, checkStorableKey, MAX_KEY_SEGMENT_BYTES } from '../../src/storage/check-storable-key.ts';

describe('checkStorableKey', () => {
  it('should accept ordinary keys, folder markers and segments up to the bound', () => {
    for (const key of [
      'data.csv',
      'iot/2024 02 12.csv',
      'a/b/',
      'été/ü.csv',
      'x'.repeat(MAX_KEY_SEGMENT_BYTES),
      `a/${'é'.repeat(MAX_KEY_SEGMENT_BYTES / 2 - 0.5)}`,
      '...',
      '.hidden/a..b',
    ]) {
      expect(checkStorableKey(key), key).to.equal(undefined);
    }
  });

  it('should refuse a segment over the bound, counted in bytes, with KeyTooLongError', () => {
    expect(checkStorableKey('x'.repeat(MAX_KEY_SEGMENT_BYTES + 1))).to.have.property('code', 'KeyTooLongError');
    expect(checkStorableKey(`a/${'x'.repeat(241)}/b.csv`)).to.have.property('code', 'KeyTooLongError');
    expect(checkStorableKey('é'.repeat(117))).to.have.property('code', 'KeyTooLongError');
    expect(checkStorableKey('a/'.repeat(513))).to.have.property('code', 'KeyTooLongError');
  });

  it("should refuse dot segments, inner empty segments, s3rver's suffix and control characters with InvalidArgument", () => {
    for (const key of [
      '..',
      '../x',
      'a/../../b',
      'a/./b',
      'a/.',
      '/a',
      'a//b',
      'x._S3rver_object/y',
      'x._S3rver_uploads',
      'a\u0000b',
      'a\nb',
      'a\u007fb',
    ]) {
      expect(checkStorableKey(key), JSON.stringify(key)).to.have.property('code', 'InvalidArgument');
    }
  });
});

describe('checkBucketName', () => {
  it('should accept S3 bucket names and refuse the rest with InvalidBucketName', () => {
    for (const name of ['ingest', 'my.bucket-1', 'abc']) expect(checkBucketName(name), name).to.equal(undefined);
    for (const name of ['', '.', '..', 'a..b', '.ingest', 'Ingest', 'ab', 'a_b', 'x'.repeat(64)])
      expect(checkBucketName(name), name).to.have.property('code', 'InvalidBucketName');
  });
});
