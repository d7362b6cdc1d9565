import { expect } from 'chai';
import { AppError, cancelledError } from '../src/errors.ts';

describe('cancelledError', () => {
  it('should say the job was cancelled, or what was under way when it was', () => {
    const reason = new Error('aborted');
    expect(cancelledError()).to.include({ code: 'cancelled', message: 'The job was cancelled.', retryable: false });
    expect(cancelledError('reading s3://ingest/a.csv', reason))
      .to.include({ code: 'cancelled', message: 'Cancelled while reading s3://ingest/a.csv.' })
      .and.have.property('cause', reason);
  });
});

describe('AppError', () => {
  it('should carry the line of a csv error in its JSON, and only when it has one', () => {
    const bad = new AppError('csv_invalid', 'Malformed CSV in the record starting at line 7: x', { line: 7 });
    expect(bad.toJSON()).to.deep.equal({ code: 'csv_invalid', message: bad.message, retryable: false, line: 7 });
    expect(new AppError('no_such_key', 'gone').toJSON()).to.deep.equal({
      code: 'no_such_key',
      message: 'gone',
      retryable: false,
    });
  });

  it('should come back from its JSON with code, message, retryability and line', () => {
    const json = { code: 's3_unavailable', message: 'down', retryable: false, line: 3 } as const;
    expect(AppError.fromJSON(json).toJSON()).to.deep.equal(json);
    expect(AppError.fromJSON(json)).to.be.instanceOf(AppError).and.include({ status: 503 });
  });
});
