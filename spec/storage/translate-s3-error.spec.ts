import { S3ServiceException } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { AppError } from '../../src/errors.ts';
import { translateS3Error } from '../../src/storage/translate-s3-error.ts';

function s3Error(name: string, status: number): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message: `${name} happened`,
  });
}

function networkError(code: string): Error {
  return Object.assign(new Error(`connect ${code}`), { code });
}

describe('translateS3Error', () => {
  const cases: [unknown, string, boolean][] = [
    [s3Error('NoSuchKey', 404), 'no_such_key', false],
    [s3Error('NotFound', 404), 'no_such_key', false],
    [s3Error('NoSuchBucket', 404), 'no_such_bucket', false],
    [s3Error('AccessDenied', 403), 'access_denied', false],
    [s3Error('Forbidden', 403), 'access_denied', false],
    [s3Error('PreconditionFailed', 412), 'source_changed', true],
    [s3Error('SlowDown', 503), 's3_throttled', true],
    [s3Error('ThrottlingException', 400), 's3_throttled', true],
    [s3Error('InternalError', 500), 's3_unavailable', true],
    [s3Error('ServiceUnavailable', 503), 's3_unavailable', true],
    [s3Error('RequestTimeout', 400), 's3_unavailable', true],
    [s3Error('Unknown', 502), 's3_unavailable', true],
    [networkError('ECONNRESET'), 's3_unavailable', true],
    [networkError('ECONNREFUSED'), 's3_unavailable', true],
    [networkError('ETIMEDOUT'), 's3_unavailable', true],
    [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 's3_unavailable', true],
    [Object.assign(new Error('Request timed out'), { name: 'TimeoutError' }), 's3_unavailable', true],
    [Object.assign(new Error('Upload aborted.'), { name: 'AbortError' }), 'cancelled', false],
    [s3Error('InvalidArgument', 400), 'internal', false],
  ];

  for (const [error, code, retryable] of cases) {
    const label = (error as { name?: string; code?: string }).code ?? (error as Error).name;
    it(`should translate ${label} to ${code}`, () => {
      const translated = translateS3Error(error, 'reading s3://ingest/a.csv');
      expect(translated).to.be.instanceOf(AppError);
      expect(translated).to.include({ code, retryable });
      expect(translated.cause).to.equal(error);
      expect(translated.message).to.include('reading s3://ingest/a.csv');
    });
  }

  it('should pass AppErrors through', () => {
    const error = new AppError('csv_invalid', 'bad');
    expect(translateS3Error(error, 'x')).to.equal(error);
  });
});
