import type { S3Client } from '@aws-sdk/client-s3';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { startTestService, waitForJob, type TestService } from '../helpers/test-service.ts';

describe('createApp', () => {
  let svc: TestService;
  let s3: S3Client;

  before(async () => {
    svc = await startTestService({ env: { API_TOKEN: 'secret-token' }, embeddedS3Events: false });
    s3 = svc.service.s3;
  });
  after(async () => svc.stop());

  it('should answer GET /healthz with 200 and no auth', async () => {
    const response = await fetch(new URL('/healthz', svc.url));
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.equal({ status: 'ok' });
    expect(response.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
  });

  it('should answer GET /readyz with 200 while the store answers', async () => {
    const response = await fetch(new URL('/readyz', svc.url));
    expect(response.status).to.equal(200);
  });

  it('should refuse /v1 routes without the bearer token, in the error shape', async () => {
    const response = await fetch(new URL('/v1/jobs', svc.url));
    expect(response.status).to.equal(401);
    expect(response.headers.get('www-authenticate')).to.match(/^Bearer/);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).to.equal('unauthorized');
    expect(body.error.message).to.be.a('string').and.not.empty;
  });

  it('should refuse a wrong token of another length', async () => {
    const response = await fetch(new URL('/v1/jobs', svc.url), { headers: { authorization: 'Bearer x' } });
    expect(response.status).to.equal(401);
  });

  it('should echo a sane X-Request-Id', async () => {
    const response = await fetch(new URL('/healthz', svc.url), { headers: { 'x-request-id': 'abc-123' } });
    expect(response.headers.get('x-request-id')).to.equal('abc-123');
  });

  it('should answer an unknown route with 404 not_found', async () => {
    const response = await svc.fetch('/v1/nothing-here');
    expect(response.status).to.equal(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).to.equal('not_found');
  });

  it('should answer an unknown job with 404', async () => {
    for (const id of ['3f1c7a52-52a4-4a5a-9b8b-8f6f0f0f0f0f', 'not-a-uuid']) {
      const response = await svc.fetch(`/v1/jobs/${id}`);
      expect(response.status, id).to.equal(404);
    }
  });

  it('should accept a REST trigger with 202 and run the job to the end', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'ingest', Key: 'flow/a.csv', Body: 'a,b\n1,2\n' }));
    const response = await svc.fetch('/v1/trigger', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: 'flow/a.csv' }),
    });
    expect(response.status).to.equal(202);
    const { jobs } = (await response.json()) as { jobs: { id: string; status: string; source: { etag: string } }[] };
    expect(jobs).to.have.length(1);
    expect(jobs[0]!.status).to.equal('queued');
    expect(jobs[0]!.source.etag).to.match(/^"[0-9a-f]+"$/);
    const job = await waitForJob(svc, jobs[0]!.id);
    expect(job['status']).to.equal('succeeded');
    expect(job['attempts']).to.equal(1);
  });

  it('should answer a trigger for a missing key with 404 no_such_key at once', async () => {
    const response = await svc.fetch('/v1/trigger', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: 'flow/missing.csv' }),
    });
    expect(response.status).to.equal(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).to.equal('no_such_key');
  });

  it('should answer malformed JSON with 400 invalid_json', async () => {
    const response = await svc.fetch('/v1/trigger', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"key":',
    });
    expect(response.status).to.equal(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).to.equal('invalid_json');
  });
});
