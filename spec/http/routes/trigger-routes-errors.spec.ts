import { expect } from 'chai';
import { NEVER } from 'rxjs';
import { postTrigger } from '../../helpers/post-trigger.ts';
import { startTestService, type TestService } from '../../helpers/test-service.ts';

function records(count: number, prefix: string) {
  return {
    Records: Array.from({ length: count }, (_, i) => ({
      eventName: 'ObjectCreated:Put',
      s3: { bucket: { name: 'ingest' }, object: { key: `${prefix}/${i}.csv`, eTag: `e${i}`, size: 1 } },
    })),
  };
}

describe('POST /v1/trigger (errors)', () => {
  let svc: TestService;

  before(async () => {
    svc = await startTestService({ embeddedS3Events: false });
  });
  after(async () => svc.stop());

  it('should answer a key that does not exist with 404 no_such_key', async () => {
    const answer = await postTrigger(svc, { key: 'nothing/here.csv' });
    expect(answer.status).to.equal(404);
    expect(answer.body.error).to.include({ code: 'no_such_key' });
    expect(answer.body.error.message).to.contain('s3://ingest/nothing/here.csv');
  });

  it('should answer an unknown pipeline with 400 unknown_pipeline', async () => {
    const answer = await postTrigger(svc, { key: 'a.csv', versionId: 'v', pipeline: 'nope' });
    expect(answer.status).to.equal(400);
    expect(answer.body.error.code).to.equal('unknown_pipeline');
    expect(answer.body.error.message).to.contain('"nope"');
  });

  it('should answer an unknown field, a bad bucket or a blank key with 400 and the zod details', async () => {
    for (const body of [{ key: 'a.csv', Key: 'b' }, { key: 'a.csv', bucket: 'Not_A_Bucket' }, { key: '  ' }]) {
      const answer = await postTrigger(svc, body);
      expect(answer.status, JSON.stringify(body)).to.equal(400);
      expect(answer.body.error.code).to.equal('validation_failed');
      expect(answer.body.error.details).to.be.an('array').that.is.not.empty;
    }
  });

  it('should answer bodies that are not an object of any shape with 400', async () => {
    for (const body of [
      '[]',
      'null',
      '42',
      '"key"',
      '{}',
      '{"source":"aws.ec2","detail-type":"Object Created","detail":{}}',
    ]) {
      const answer = await postTrigger(svc, body);
      expect(answer.status, body).to.equal(400);
      expect(answer.body.error.code, body).to.equal('validation_failed');
    }
  });

  it('should answer malformed JSON, as application/json or as an SNS text/plain delivery, with 400 invalid_json', async () => {
    const kinds: Record<string, string>[] = [
      { 'content-type': 'application/json' },
      { 'content-type': 'text/plain', 'x-amz-sns-message-type': 'Notification' },
    ];
    for (const headers of kinds) {
      const answer = await postTrigger(svc, '{"key": "a.csv"', headers);
      expect(answer.status, JSON.stringify(headers)).to.equal(400);
      expect(answer.body.error.code).to.equal('invalid_json');
    }
  });

  it('should refuse a text/plain body without the SNS header with 415, naming application/json, whatever it holds', async () => {
    for (const body of [JSON.stringify({ key: 'a.csv', versionId: 'v-text' }), '{"key": "a.csv"', '']) {
      const answer = await postTrigger(svc, body, { 'content-type': 'text/plain; charset=utf-8' });
      expect(answer.status, body).to.equal(415);
      expect(answer.body.error.code).to.equal('unsupported_media_type');
      expect(answer.body.error.message).to.include('application/json').and.include('x-amz-sns-message-type');
    }
  });

  it('should answer a body over 1 MiB with 413 payload_too_large, and one of 1 MiB with no 413', async () => {
    const over = await postTrigger(svc, JSON.stringify({ key: 'a.csv', pad: 'x'.repeat(1024 * 1024) }));
    expect(over.status).to.equal(413);
    expect(over.body.error.code).to.equal('payload_too_large');
    expect(over.body.error.message).to.equal(
      'The request body is larger than 1 MiB (1048576 bytes), the limit for POST /v1/trigger; nothing was read past it.',
    );
    const base = JSON.stringify({ key: 'a.csv', versionId: 'v', pipeline: '' });
    const exact = base.replace('"pipeline":""', `"pipeline":"${'p'.repeat(1024 * 1024 - base.length)}"`);
    expect(Buffer.byteLength(exact)).to.equal(1024 * 1024);
    expect((await postTrigger(svc, exact)).status).to.equal(400); // read and parsed; the pipeline name is too long
  });

  it('should answer another content type with 415 and no body with 400', async () => {
    const form = await postTrigger(svc, 'key=a.csv', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).to.equal(415);
    expect(form.body.error.code).to.equal('unsupported_media_type');
    const response = await svc.fetch('/v1/trigger', { method: 'POST' });
    expect(response.status).to.equal(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).to.equal('validation_failed');
  });

  it('should answer GET /v1/trigger with 405 method_not_allowed', async () => {
    const response = await svc.fetch('/v1/trigger');
    expect(response.status).to.equal(405);
    expect(((await response.json()) as { error: { code: string } }).error.code).to.equal('method_not_allowed');
  });
});

describe('POST /v1/trigger (backpressure)', () => {
  let svc: TestService;

  before(async () => {
    svc = await startTestService({
      env: { QUEUE_CAPACITY: '2', JOB_CONCURRENCY: '1', SHUTDOWN_TIMEOUT_MS: '50' },
      runJob: () => () => NEVER,
      embeddedS3Events: false,
    });
  });
  after(async () => svc.stop());

  const keys = async () =>
    ((await (await svc.fetch('/v1/jobs')).json()) as { jobs: { source: { key: string } }[] }).jobs
      .map((job) => job.source.key)
      .sort();

  it('should refuse a request past QUEUE_CAPACITY with 429, Retry-After, and accept none of it', async () => {
    const tooMany = await postTrigger(svc, records(3, 'full-a'));
    expect(tooMany.status).to.equal(429);
    expect(tooMany.body.error.code).to.equal('queue_full');
    expect(Number(tooMany.headers.get('retry-after'))).to.be.greaterThan(0);
    expect(await keys()).to.deep.equal([]);

    const two = await postTrigger(svc, records(2, 'full-b')); // one runs (never ends), one waits
    expect(two.status).to.equal(202);
    const again = await postTrigger(svc, records(2, 'full-c')); // room for one only
    expect(again.status).to.equal(429);
    expect(await keys()).to.deep.equal(['full-b/0.csv', 'full-b/1.csv']);

    expect((await postTrigger(svc, records(1, 'full-d'))).status).to.equal(202);
    expect((await postTrigger(svc, records(1, 'full-e'))).status).to.equal(429);
  });

  it('should still answer duplicates of queued jobs while the queue is full, when nothing new is asked', async () => {
    const answer = await postTrigger(svc, records(1, 'full-d'));
    expect(answer.status).to.equal(202);
    expect(answer.body.jobs[0].duplicate).to.equal(true);
  });
});

describe('POST /v1/trigger (S3 unreachable)', () => {
  it('should accept a trigger whose object cannot be HEADed now, for the job to retry', async () => {
    const svc = await startTestService({
      env: { S3_ENDPOINT: 'http://127.0.0.1:9', SHUTDOWN_TIMEOUT_MS: '50' },
      runJob: () => () => NEVER,
    });
    try {
      const answer = await postTrigger(svc, { key: 'later.csv' });
      expect(answer.status, JSON.stringify(answer.body)).to.equal(202);
      expect(answer.body.jobs[0].source).to.include({ key: 'later.csv', etag: null });
    } finally {
      await svc.stop();
    }
  });
});
