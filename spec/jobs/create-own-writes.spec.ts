import { expect } from 'chai';
import { createOwnWrites } from '../../src/jobs/create-own-writes.ts';

describe('createOwnWrites', () => {
  it('should count an object as own while it is written, and after with its ETag (quotes or not)', () => {
    const writes = createOwnWrites();
    const end = writes.begin('b', 'k');
    expect(writes.isOwn('b', 'k', undefined)).to.equal(true);
    end('"e1"');
    expect(writes.isOwn('b', 'k', 'e1')).to.equal(true);
    expect(writes.isOwn('b', 'k', '"e2"')).to.equal(false);
    expect(writes.isOwn('b', 'other', 'e1')).to.equal(false);
  });

  it('should forget an aborted write', () => {
    const writes = createOwnWrites();
    writes.begin('b', 'k')();
    expect(writes.isOwn('b', 'k', undefined)).to.equal(false);
  });

  it('should keep two writes of one key apart, and end each once', () => {
    const writes = createOwnWrites();
    const first = writes.begin('b', 'k');
    const second = writes.begin('b', 'k');
    first();
    first();
    expect(writes.isOwn('b', 'k', undefined)).to.equal(true);
    second();
    expect(writes.isOwn('b', 'k', undefined)).to.equal(false);
  });

  it('should remember at most maxRemembered finished writes, oldest forgotten first', () => {
    const writes = createOwnWrites({ maxRemembered: 2 });
    for (const key of ['a', 'b', 'c']) writes.begin('b', key)('e');
    expect(['a', 'b', 'c'].map((key) => writes.isOwn('b', key, 'e'))).to.deep.equal([false, true, true]);
  });
});
