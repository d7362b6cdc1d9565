import { expect } from 'chai';
import { headerLine } from '../../src/csv/header-line.ts';

describe('headerLine', () => {
  const utf8 = { encoding: 'utf8' as const, skipLines: 0 };

  it('should give the first line without BOM or line ending', () => {
    expect(headerLine(Buffer.from('\ufeffa;b\r\n1;2\r\n'), utf8)).to.equal('a;b');
    expect(headerLine(Buffer.from('a|b'), utf8)).to.equal('a|b');
  });

  it('should pass over skipped and blank lines', () => {
    expect(headerLine(Buffer.from('note\n\n\r\na\tb\n'), { encoding: 'utf8', skipLines: 1 })).to.equal('a\tb');
    expect(headerLine(Buffer.from(''), utf8)).to.equal('');
  });

  it('should decode the declared encoding', () => {
    expect(headerLine(Buffer.from('\ufeffé;b\n', 'utf16le'), { encoding: 'utf16le', skipLines: 0 })).to.equal('é;b');
    expect(headerLine(Buffer.from('é;b\n', 'latin1'), { encoding: 'latin1', skipLines: 0 })).to.equal('é;b');
  });
});
