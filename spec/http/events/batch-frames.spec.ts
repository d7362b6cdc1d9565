import { expect } from 'chai';
import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { batchFrames } from '../../../src/http/events/batch-frames.ts';

describe('batchFrames', () => {
  let testScheduler: TestScheduler;

  beforeEach(() => {
    testScheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  it('should join the frames of one turn into one buffer, and flush the last ones on completion', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const frames = hot('  -(ab)-c-(de|)');
      const framesSubs = '  ^-------!';
      const expected = '    -x----y-(z|)';
      expectObservable(batchFrames(frames, testScheduler).pipe(map((batch) => batch.toString('utf8')))).toBe(expected, {
        x: 'ab',
        y: 'c',
        z: 'de',
      });
      expectSubscriptions(frames.subscriptions).toBe(framesSubs);
    });
  });

  it('should encode multi-byte text as UTF-8', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const frames = cold(' (ab|)', { a: 'é', b: '€' });
      const expected = '    (x|)';
      expectObservable(batchFrames(frames, testScheduler).pipe(map((batch) => [...batch]))).toBe(expected, {
        x: [...Buffer.from('é€', 'utf8')],
      });
    });
  });

  it('should pass an error after the frames before it', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const frames = hot('  -a-(b#)');
      const expected = '    -x-(y#)';
      expectObservable(batchFrames(frames, testScheduler).pipe(map((batch) => batch.toString()))).toBe(expected, {
        x: 'a',
        y: 'b',
      });
    });
  });

  it('should drop a pending flush when unsubscribed', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const frames = hot('  -a-b-c');
      const unsub = '       ---!';
      const framesSubs = '  ^--!';
      const expected = '    -x--';
      expectObservable(batchFrames(frames, testScheduler).pipe(map((batch) => batch.toString())), unsub).toBe(
        expected,
        { x: 'a' },
      );
      expectSubscriptions(frames.subscriptions).toBe(framesSubs);
    });
  });
});
