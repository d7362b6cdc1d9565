import { PutObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { postTrigger } from '../../helpers/post-trigger.ts';
import { startTestService, type TestService } from '../../helpers/test-service.ts';

function record(key: string, object: Record<string, unknown> = {}, eventName = 'ObjectCreated:Put') {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    eventName,
    s3: { s3SchemaVersion: '1.0', bucket: { name: 'ingest', arn: 'arn:aws:s3:::ingest' }, object: { key, ...object } },
  };
}

function eventBridge(key: string, detailType = 'Object Created', object: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: 'e-1',
    'detail-type': detailType,
    source: 'aws.s3',
    account: '123456789012',
    region: 'us-east-1',
    detail: { version: '0', bucket: { name: 'ingest' }, object: { key, ...object }, reason: 'PutObject' },
  };
}

describe('POST /v1/trigger (shapes)', () => {
  let svc: TestService;
  const etags = new Map<string, string>();

  before(async () => {
    svc = await startTestService({ embeddedS3Events: false });
    for (const key of [
      'rest/a.csv',
      'obj/a.csv',
      'dec/a b.csv',
      'dec/a+b.csv',
      'dec/ü ß.csv',
      'dec/100%.csv',
      'eb/a+b.csv',
      'eb/c d.csv',
      'dup/a.csv',
      ' spaced.csv ',
    ]) {
      const put = await svc.service.s3.send(
        new PutObjectCommand({ Bucket: 'ingest', Key: key, Body: `k,v\n${key},1\n` }),
      );
      etags.set(key, put.ETag ?? '');
    }
  });
  after(async () => svc.stop());

  describe('REST', () => {
    it('should queue {key} in INPUT_BUCKET with the HEAD ETag and size, trigger rest, pipeline chosen by key', async () => {
      const answer = await postTrigger(svc, { key: 'rest/a.csv' });
      expect(answer.status).to.equal(202);
      const [job] = answer.body.jobs;
      expect(job).to.include({ status: 'queued', trigger: 'rest', pipeline: 'default', duplicate: false });
      expect(job.source).to.deep.equal({
        bucket: 'ingest',
        key: 'rest/a.csv',
        versionId: null,
        etag: etags.get('rest/a.csv'),
        size: 17,
      });
    });

    it('should take bucket, versionId and pipeline; a versionId needs no HEAD', async () => {
      const answer = await postTrigger(svc, {
        bucket: 'ingest',
        key: 'rest/not-there-yet.csv',
        versionId: 'v-1',
        pipeline: 'default',
      });
      expect(answer.status).to.equal(202);
      expect(answer.body.jobs[0].source).to.include({ key: 'rest/not-there-yet.csv', versionId: 'v-1', etag: null });
    });

    it('should keep a key exactly as given (no trimming)', async () => {
      const answer = await postTrigger(svc, { key: ' spaced.csv ' });
      expect(answer.status).to.equal(202);
      expect(answer.body.jobs[0].source.key).to.equal(' spaced.csv ');
    });
  });

  describe('{object: {key}}', () => {
    it('should queue the key in the default bucket', async () => {
      const answer = await postTrigger(svc, { object: { key: 'obj/a.csv' } });
      expect(answer.status).to.equal(202);
      expect(answer.body.jobs[0]).to.include({ trigger: 'rest' });
      expect(answer.body.jobs[0].source).to.include({ bucket: 'ingest', key: 'obj/a.csv' });
    });

    for (const [label, body] of [
      ['blank', { object: { key: '   ' } }],
      ['empty', { object: { key: '' } }],
      ['missing', { object: {} }],
      ['not a string', { object: { key: 7 } }],
    ] as const) {
      it(`should answer a ${label} key with 400 naming object.key`, async () => {
        const answer = await postTrigger(svc, body);
        expect(answer.status).to.equal(400);
        expect(answer.body.error.code).to.equal('validation_failed');
        expect(answer.body.error.message).to.match(/object\.key/);
        expect(answer.body.error.details[0].path).to.equal('object.key');
      });
    }
  });

  describe('S3 event notification', () => {
    it('should form-URL-decode keys: + is a space, %2B a plus, UTF-8 percent sequences, %25', async () => {
      const answer = await postTrigger(svc, {
        Records: [
          record('dec/a+b.csv'),
          record('dec/a%2Bb.csv'),
          record('dec/%C3%BC+%C3%9F.csv'),
          record('dec/100%25.csv'),
        ],
      });
      expect(answer.status, JSON.stringify(answer.body)).to.equal(202);
      expect(answer.body.jobs.map((job: { source: { key: string } }) => job.source.key)).to.deep.equal([
        'dec/a b.csv',
        'dec/a+b.csv',
        'dec/ü ß.csv',
        'dec/100%.csv',
      ]);
      expect(answer.body.jobs.map((job: { trigger: string }) => job.trigger)).to.deep.equal([
        's3-event',
        's3-event',
        's3-event',
        's3-event',
      ]);
      expect(answer.body.jobs[0].source.etag).to.equal(etags.get('dec/a b.csv'));
    });

    it('should take eTag (quoted like HEAD), size and versionId from the record without a HEAD', async () => {
      const answer = await postTrigger(svc, {
        Records: [record('dec/absent.csv', { eTag: '0123abcd', size: 42, versionId: 'v9', sequencer: '00A' })],
      });
      expect(answer.status).to.equal(202);
      expect(answer.body.jobs[0].source).to.deep.equal({
        bucket: 'ingest',
        key: 'dec/absent.csv',
        versionId: 'v9',
        etag: '"0123abcd"',
        size: 42,
      });
    });

    for (const bad of ['dec/%ZZ.csv', 'dec/%E0%A4%A.csv', 'dec/%C3%28.csv', 'dec/100%']) {
      it(`should answer a malformed percent sequence (${bad}) with 400 naming the key`, async () => {
        const answer = await postTrigger(svc, { Records: [record(bad, { eTag: 'ab' })] });
        expect(answer.status).to.equal(400);
        expect(answer.body.error.details[0].path).to.equal('Records.0.s3.object.key');
      });
    }

    it('should skip records that are not ObjectCreated:*', async () => {
      const mixed = await postTrigger(svc, {
        Records: [
          record('dec/a b.csv', {}, 'ObjectRemoved:Delete'),
          record('dec/a+b.csv', { eTag: 'feed' }, 'ObjectCreated:CompleteMultipartUpload'),
        ],
      });
      expect(mixed.status).to.equal(202);
      expect(mixed.body.jobs).to.have.length(1);
      const none = await postTrigger(svc, {
        Records: [{ eventName: 'ObjectRemoved:Delete', s3: { object: { key: 'whatever' } } }],
      });
      expect(none.status).to.equal(200);
      expect(none.body).to.deep.equal({ jobs: [] });
    });

    it('should answer s3:TestEvent with 200 and no jobs', async () => {
      const answer = await postTrigger(svc, {
        Service: 'Amazon S3',
        Event: 's3:TestEvent',
        Time: '2024-02-12T00:00:00.000Z',
        Bucket: 'ingest',
        RequestId: 'R',
        HostId: 'H',
      });
      expect(answer.status).to.equal(200);
      expect(answer.body).to.deep.equal({ jobs: [] });
    });

    it('should answer a record without a key, or an empty Records, with 400 and the path', async () => {
      const answer = await postTrigger(svc, {
        Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'ingest' }, object: {} } }],
      });
      expect(answer.status).to.equal(400);
      expect(answer.body.error.message).to.match(/Records\.0\.s3\.object\.key/);
      expect((await postTrigger(svc, { Records: [] })).status).to.equal(400);
    });
  });

  describe('EventBridge', () => {
    it('should queue Object Created with the key as given (not URL-decoded)', async () => {
      const answer = await postTrigger(svc, eventBridge('eb/a+b.csv'));
      expect(answer.status, JSON.stringify(answer.body)).to.equal(202);
      expect(answer.body.jobs[0]).to.include({ trigger: 'eventbridge' });
      expect(answer.body.jobs[0].source).to.include({ key: 'eb/a+b.csv', etag: etags.get('eb/a+b.csv') });
      const withDetail = await postTrigger(
        svc,
        eventBridge('eb/c d.csv', 'Object Created', { etag: 'beef', size: 3, 'version-id': 'v2' }),
      );
      expect(withDetail.body.jobs[0].source).to.deep.equal({
        bucket: 'ingest',
        key: 'eb/c d.csv',
        versionId: 'v2',
        etag: '"beef"',
        size: 3,
      });
    });

    it('should answer other S3 event types with 200 and no jobs', async () => {
      const answer = await postTrigger(svc, eventBridge('eb/a+b.csv', 'Object Deleted'));
      expect(answer.status).to.equal(200);
      expect(answer.body).to.deep.equal({ jobs: [] });
    });

    it('should answer a detail without a key with 400 naming detail.object.key', async () => {
      const event = eventBridge('x');
      delete (event.detail.object as { key?: string }).key;
      const answer = await postTrigger(svc, event);
      expect(answer.status).to.equal(400);
      expect(answer.body.error.details[0].path).to.equal('detail.object.key');
    });
  });

  describe('duplicates', () => {
    it('should answer a second trigger of the same object, whatever its shape, with the first job and duplicate: true', async () => {
      const first = await postTrigger(svc, { key: 'dup/a.csv' });
      const again = await postTrigger(svc, { key: 'dup/a.csv' });
      const event = await postTrigger(svc, {
        Records: [record('dup/a.csv', { eTag: etags.get('dup/a.csv')!.replace(/"/g, '') })],
      });
      const bridge = await postTrigger(
        svc,
        eventBridge('dup/a.csv', 'Object Created', { etag: etags.get('dup/a.csv')!.replace(/"/g, '') }),
      );
      const id = first.body.jobs[0].id;
      for (const answer of [again, event, bridge]) {
        expect(answer.status).to.equal(202);
        expect(answer.body.jobs[0]).to.include({ id, duplicate: true, trigger: 'rest' });
      }
    });

    it('should make one job for an object named twice in one event', async () => {
      const answer = await postTrigger(svc, {
        Records: [record('dup/twice.csv', { eTag: 'aa' }), record('dup/twice.csv', { eTag: 'aa' })],
      });
      expect(answer.status).to.equal(202);
      const [a, b] = answer.body.jobs;
      expect(b.id).to.equal(a.id);
      expect([a.duplicate, b.duplicate]).to.deep.equal([false, true]);
      const list = (await (await svc.fetch('/v1/jobs?limit=1000')).json()) as { jobs: { source: { key: string } }[] };
      expect(list.jobs.filter((job) => job.source.key === 'dup/twice.csv')).to.have.length(1);
    });
  });
});
