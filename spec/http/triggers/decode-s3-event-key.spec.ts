import { expect } from 'chai';
import { decodeS3EventKey } from '../../../src/http/triggers/decode-s3-event-key.ts';

describe('decodeS3EventKey', () => {
  for (const [encoded, key] of [
    ['a+b.csv', 'a b.csv'],
    ['a%2Bb.csv', 'a+b.csv'],
    ['a%20b.csv', 'a b.csv'],
    ['dir%2Ffile.csv', 'dir/file.csv'],
    ['dir/file.csv', 'dir/file.csv'],
    ['%C3%BC%E6%95%B0.csv', 'ü数.csv'],
    ['%F0%9F%98%80', '😀'],
    ['100%25', '100%'],
    ['%2B%2B++', '++  '],
    ['', ''],
  ] as const) {
    it(`should decode ${JSON.stringify(encoded)} to ${JSON.stringify(key)}`, () => {
      expect(decodeS3EventKey(encoded)).to.equal(key);
    });
  }

  for (const encoded of ['%', '%2', '%ZZ', 'a%G1', '%C3', '%C3%28', '%ED%A0%80', '%FF']) {
    it(`should refuse the malformed ${JSON.stringify(encoded)}`, () => {
      expect(decodeS3EventKey(encoded)).to.equal(undefined);
    });
  }
});
