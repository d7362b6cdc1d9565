import { expect } from 'chai';
import { verifySigV4, type SignedRequest } from '../../src/storage/verify-sigv4.ts';
import { presignS3Request, signS3Request, type RawS3Request } from '../helpers/sign-s3-request.ts';

// The example of AWS's "Signature Calculations for the Authorization Header" and "…Query String Parameters" (S3 API
// reference).
const EXAMPLE_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const EXAMPLE_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const EXAMPLE_TIME = Date.UTC(2013, 4, 24, 0, 0, 0);
const secretFor = (id: string) => (id === EXAMPLE_KEY_ID ? EXAMPLE_SECRET : id === 'S3RVER' ? 'S3RVER' : undefined);

const awsHeaderExample: SignedRequest = {
  method: 'GET',
  rawPath: '/test.txt',
  rawQuery: '',
  headers: {
    host: ['examplebucket.s3.amazonaws.com'],
    range: ['bytes=0-9'],
    'x-amz-content-sha256': ['e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    'x-amz-date': ['20130524T000000Z'],
    authorization: [
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    ],
  },
};
const awsPresignedExample: SignedRequest = {
  method: 'GET',
  rawPath: '/test.txt',
  rawQuery:
    'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
  headers: { host: ['examplebucket.s3.amazonaws.com'] },
};

/** The request as the server would receive it, from a request signed by the SDK's signer. */
function received(request: RawS3Request, headers: Record<string, string>, rawQuery: string): SignedRequest {
  return {
    method: request.method,
    rawPath: request.path,
    rawQuery,
    headers: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), [value]])),
  };
}

describe('verifySigV4', () => {
  it("should accept AWS's example of a signed header", () => {
    expect(verifySigV4(awsHeaderExample, { secretFor, now: EXAMPLE_TIME + 60_000 })).to.equal(undefined);
  });

  it("should accept AWS's example of a presigned URL within its expiry, and refuse it past it", () => {
    expect(verifySigV4(awsPresignedExample, { secretFor, now: EXAMPLE_TIME + 86_000_000 })).to.equal(undefined);
    expect(verifySigV4(awsPresignedExample, { secretFor, now: EXAMPLE_TIME + 86_401_000 })).to.deep.include({
      code: 'AccessDenied',
      message: 'Request has expired.',
    });
  });

  it('should refuse a request without a signature with AccessDenied', () => {
    const { authorization: _, ...headers } = awsHeaderExample.headers;
    expect(verifySigV4({ ...awsHeaderExample, headers }, { secretFor, now: EXAMPLE_TIME })).to.have.property(
      'code',
      'AccessDenied',
    );
  });

  it('should refuse a signature that does not match what was received with SignatureDoesNotMatch', () => {
    const changes: Partial<SignedRequest>[] = [
      { method: 'PUT' },
      { rawPath: '/test.txt2' },
      { rawQuery: 'x=1' },
      { headers: { ...awsHeaderExample.headers, range: ['bytes=0-10'] } },
      {
        headers: {
          ...awsHeaderExample.headers,
          authorization: [awsHeaderExample.headers['authorization']![0]!.replace(/.$/, '0')],
        },
      },
    ];
    for (const change of changes) {
      expect(
        verifySigV4({ ...awsHeaderExample, ...change }, { secretFor, now: EXAMPLE_TIME }),
        JSON.stringify(change),
      ).to.have.property('code', 'SignatureDoesNotMatch');
    }
    expect(verifySigV4(awsHeaderExample, { secretFor: () => 'another secret', now: EXAMPLE_TIME })).to.have.property(
      'code',
      'SignatureDoesNotMatch',
    );
  });

  it('should refuse an unknown access key id with InvalidAccessKeyId', () => {
    expect(verifySigV4(awsHeaderExample, { secretFor: () => undefined, now: EXAMPLE_TIME })).to.have.property(
      'code',
      'InvalidAccessKeyId',
    );
  });

  it('should refuse a signed header more than 15 minutes off with RequestTimeTooSkewed', () => {
    expect(verifySigV4(awsHeaderExample, { secretFor, now: EXAMPLE_TIME + 15 * 60_000 })).to.equal(undefined);
    expect(verifySigV4(awsHeaderExample, { secretFor, now: EXAMPLE_TIME + 15 * 60_000 + 1000 })).to.have.property(
      'code',
      'RequestTimeTooSkewed',
    );
    expect(verifySigV4(awsHeaderExample, { secretFor, now: EXAMPLE_TIME - 16 * 60_000 })).to.have.property(
      'code',
      'RequestTimeTooSkewed',
    );
  });

  it('should refuse two mechanisms at once, other algorithms, a scope for another day and an unsigned host', () => {
    const both = { ...awsHeaderExample, rawQuery: awsPresignedExample.rawQuery };
    expect(verifySigV4(both, { secretFor, now: EXAMPLE_TIME })).to.have.property('code', 'InvalidArgument');
    const v2 = {
      ...awsHeaderExample,
      headers: {
        ...awsHeaderExample.headers,
        authorization: ['AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg='],
      },
    };
    expect(verifySigV4(v2, { secretFor, now: EXAMPLE_TIME })).to.have.property('code', 'AccessDenied');
    const otherDay = {
      ...awsHeaderExample,
      headers: {
        ...awsHeaderExample.headers,
        authorization: [awsHeaderExample.headers['authorization']![0]!.replace('/20130524/', '/20130523/')],
      },
    };
    expect(verifySigV4(otherDay, { secretFor, now: EXAMPLE_TIME })).to.have.property(
      'code',
      'AuthorizationHeaderMalformed',
    );
    const noHost = {
      ...awsHeaderExample,
      headers: {
        ...awsHeaderExample.headers,
        authorization: [
          awsHeaderExample.headers['authorization']![0]!.replace('SignedHeaders=host;', 'SignedHeaders='),
        ],
      },
    };
    expect(verifySigV4(noHost, { secretFor, now: EXAMPLE_TIME })).to.have.property('code', 'AccessDenied');
  });

  it("should accept what the SDK's own signer signs: encoded keys, sub-resources, several query values", async () => {
    const now = Date.now();
    const requests: RawS3Request[] = [
      {
        method: 'PUT',
        host: '127.0.0.1:4568',
        path: '/ingest/a%20b/%C3%A9t%C3%A9%2B%21%27%28%29%2A~.csv',
        headers: { 'content-type': 'text/csv', 'x-amz-meta-note': '  two  spaces ' },
      },
      {
        method: 'GET',
        host: '127.0.0.1:4568',
        path: '/ingest',
        query: { 'list-type': '2', prefix: 'a b/é', 'max-keys': '10', delimiter: '/' },
      },
      { method: 'POST', host: '127.0.0.1:4568', path: '/ingest/out/rows.ndjson', query: { uploads: '' } },
      {
        method: 'PUT',
        host: '127.0.0.1:4568',
        path: '/ingest/out/rows.ndjson',
        query: { uploadId: 'abc123', partNumber: '7' },
        payloadHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      },
    ];
    for (const request of requests) {
      const headers = await signS3Request(request, { signingDate: new Date(now) });
      const rawQuery = new URLSearchParams(request.query).toString().replace(/\+/g, '%20');
      expect(
        verifySigV4(received(request, headers, rawQuery), { secretFor, now }),
        `${request.method} ${request.path}`,
      ).to.equal(undefined);
      expect(
        verifySigV4(received(request, headers, rawQuery), { secretFor: () => 'not S3RVER', now }),
      ).to.have.property('code', 'SignatureDoesNotMatch');
    }
  });

  it("should accept a URL presigned by the SDK's own signer, and refuse it changed", async () => {
    const now = Date.now();
    const request: RawS3Request = {
      method: 'GET',
      host: '127.0.0.1:4568',
      path: '/ingest/a%20b.csv',
      query: { 'response-content-type': 'text/plain' },
    };
    const rawQuery = await presignS3Request(request, 300, { signingDate: new Date(now) });
    const signed: SignedRequest = {
      method: 'GET',
      rawPath: request.path,
      rawQuery,
      headers: { host: ['127.0.0.1:4568'] },
    };
    expect(verifySigV4(signed, { secretFor, now: now + 299_000 })).to.equal(undefined);
    expect(verifySigV4({ ...signed, rawPath: '/ingest/other.csv' }, { secretFor, now })).to.have.property(
      'code',
      'SignatureDoesNotMatch',
    );
    expect(
      verifySigV4({ ...signed, rawQuery: rawQuery.replace('text%2Fplain', 'text%2Fhtml') }, { secretFor, now }),
    ).to.have.property('code', 'SignatureDoesNotMatch');
    expect(verifySigV4(signed, { secretFor, now: now + 301_000 })).to.have.property('code', 'AccessDenied');
  });
});
