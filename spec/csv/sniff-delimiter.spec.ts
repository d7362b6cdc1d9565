import { expect } from 'chai';
import { sniffDelimiter } from '../../src/csv/sniff-delimiter.ts';

describe('sniffDelimiter', () => {
  it('should pick the candidate found most often in the header line', () => {
    expect(sniffDelimiter('a,b,c')).to.equal(',');
    expect(sniffDelimiter('a;b;c')).to.equal(';');
    expect(sniffDelimiter('a\tb\tc')).to.equal('\t');
    expect(sniffDelimiter('a|b|c')).to.equal('|');
  });

  it('should choose one delimiter when several occur, not split on all', () => {
    expect(sniffDelimiter('name;price,eur;qty')).to.equal(';');
    expect(sniffDelimiter('a|b,c|d')).to.equal('|');
  });

  it('should ignore candidates inside quotes', () => {
    expect(sniffDelimiter('"a,b,c";"d,e";f')).to.equal(';');
  });

  it('should prefer the earlier candidate on a tie, and a comma for a single column', () => {
    expect(sniffDelimiter('a,b;c')).to.equal(',');
    expect(sniffDelimiter('a;b|c')).to.equal(';');
    expect(sniffDelimiter('only')).to.equal(',');
    expect(sniffDelimiter('')).to.equal(',');
  });

  it('should honour another quote character, or none', () => {
    expect(sniffDelimiter("'a;b',c,d", "'")).to.equal(',');
    expect(sniffDelimiter('"a;b;c",d', null)).to.equal(';');
  });
});
