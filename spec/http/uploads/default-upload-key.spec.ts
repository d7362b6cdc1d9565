import { expect } from 'chai';
import { defaultUploadKey } from '../../../src/http/uploads/default-upload-key.ts';

describe('defaultUploadKey', () => {
  const now = new Date('2024-02-09T23:59:59.999Z');
  const id = '3f1c7a52-52a4-4a5a-9b8b-8f6f0f0f0f0f';

  for (const [name, expected] of [
    ['iot 2024-02-12.csv', 'iot-2024-02-12.csv'],
    ['C:\\Users\\me\\data.csv', 'data.csv'],
    ['../../etc/passwd', 'passwd'],
    ['données été.csv.gz', 'donnees-ete.csv.gz'],
    ['..', 'upload'],
    ['', 'upload'],
    [undefined, 'upload'],
    ['数据.csv', 'upload.csv'],
    ['.hidden', 'upload.hidden'],
  ] as const) {
    it(`should make uploads/<UTC date>/<id>-${expected} of ${JSON.stringify(name)}`, () => {
      expect(defaultUploadKey(name, now, id)).to.equal(`uploads/2024/02/09/${id}-${expected}`);
    });
  }

  it('should keep the end of a long name (its extension)', () => {
    const key = defaultUploadKey(`${'x'.repeat(300)}.csv`, now, id);
    expect(key.endsWith('.csv')).to.equal(true);
    expect(key.length).to.be.at.most(`uploads/2024/02/09/${id}-`.length + 100);
  });
});
