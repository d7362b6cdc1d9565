import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { postTrigger, type TriggerAnswer } from '../../helpers/post-trigger.ts';
import { createSnsTestSigner, type SnsTestSigner } from '../../helpers/sns-test-signer.ts';
import { startTestService, waitForJob, type TestService } from '../../helpers/test-service.ts';

function s3Event(...records: { bucket?: string; key: string }[]) {
  return {
    Records: records.map(({ bucket = 'ingest', key }) => ({
      eventName: 'ObjectCreated:Put',
      s3: { bucket: { name: bucket }, object: { key, eTag: 'e0', size: 4 } },
    })),
  };
}

function eventBridge(key: string, bucket = 'ingest') {
  return {
    source: 'aws.s3',
    'detail-type': 'Object Created',
    detail: { bucket: { name: bucket }, object: { key, etag: 'e0', size: 4 } },
  };
}

/** Keys that break a rule, with the rule's words and how the key shows in the message. */
const BAD_KEYS: readonly [label: string, key: string, rule: RegExp, shown: string][] = [
  ['a .. segment', 'a/../../etc/passwd', /segment 2 is "\.\."/, '"a/../../etc/passwd"'],
  ['a . segment', './processed/x.csv', /segment 1 is "\."/, '"./processed/x.csv"'],
  ['an empty segment', 'a//b.csv', /segment 2 is empty/, '"a//b.csv"'],
  ['a trailing /', 'dir/', /segment 2 is empty/, '"dir/"'],
  ['a leading /', '/abs.csv', /starts with "\/"/, '"/abs.csv"'],
  ['a NUL', 'a\u0000b.csv', /control character U\+0000/, '"a\\u0000b.csv"'],
  ['a newline', 'a\nb.csv', /control character U\+000A/, '"a\\nb.csv"'],
  ['a DEL', 'a\u007fb.csv', /control character U\+007F/, '"a\\u007fb.csv"'],
  ['a C1 control', 'a\u0085b.csv', /control character U\+0085/, '"a\\u0085b.csv"'],
  ['1,025 bytes', `${'é'.repeat(512)}x`, /1025 bytes of UTF-8; a key is at most 1024/, `"${'é'.repeat(80)}…"`],
  ['a lone surrogate', 'a\ud800.csv', /lone surrogate/, '"a\\ud800.csv"'],
  [
    'the prefix OUTPUT_PREFIX',
    'processed/ingest/x.csv/rows.ndjson',
    /under OUTPUT_PREFIX \("processed\/"\)/,
    '"processed/ingest/x.csv/rows.ndjson"',
  ],
];

function expectInvalidKey(answer: TriggerAnswer, rule: RegExp, shown: string): void {
  expect(answer.status, JSON.stringify(answer.body)).to.equal(400);
  expect(answer.body.error.code).to.equal('invalid_key');
  expect(answer.body.error.message).to.match(rule);
  expect(answer.body.error.message).to.contain(`The key ${shown} is not valid`);
}

describe('POST /v1/trigger (key rules and bucket allow-list)', () => {
  let svc: TestService;
  let signer: SnsTestSigner;

  before(async () => {
    signer = createSnsTestSigner();
    svc = await startTestService({
      embeddedS3Events: false,
      snsFetch: (url) => signer.fetch(url),
      env: { ALLOWED_BUCKETS: 'ingest,other' },
    });
    // A bucket the service's credentials reach, but that is not allowed.
    await svc.service.s3.send(new CreateBucketCommand({ Bucket: 'secret-bucket' }));
    await svc.service.s3.send(
      new PutObjectCommand({ Bucket: 'secret-bucket', Key: 'payroll.csv', Body: 'name,salary\nAda,1\n' }),
    );
    for (const [bucket, who] of [
      ['ingest', 'ingest-row'],
      ['other', 'other-row'],
    ]) {
      await svc.service.s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'same/people.csv', Body: `name\n${who}\n` }),
      );
    }
    await svc.service.s3.send(new PutObjectCommand({ Bucket: 'ingest', Key: 'good/a.csv', Body: 'a\n1\n' }));
  });
  after(async () => svc.stop());

  const jobKeys = async () =>
    ((await (await svc.fetch('/v1/jobs?limit=1000')).json()) as { jobs: { source: { key: string } }[] }).jobs.map(
      (job) => job.source.key,
    );

  describe('invalid_key, on every trigger shape', () => {
    for (const [label, key, rule, shown] of BAD_KEYS) {
      it(`should refuse a key with ${label}: REST, {object}, EventBridge`, async () => {
        expectInvalidKey(await postTrigger(svc, { key }), rule, shown);
        expectInvalidKey(await postTrigger(svc, { key, versionId: 'v1' }), rule, shown);
        expectInvalidKey(await postTrigger(svc, { object: { key } }), rule, shown);
        expectInvalidKey(await postTrigger(svc, eventBridge(key)), rule, shown);
      });
    }

    // A lone surrogate has no percent-encoding: it is sent in the event as it is.
    for (const [label, key, rule, shown] of BAD_KEYS.filter(([, key]) => !/[\uD800-\uDFFF]/.test(key))) {
      it(`should refuse a key with ${label} in an S3 event, checked after URL decoding, and in an SNS delivery`, async () => {
        // As S3 encodes keys in events: form-URL-encoding, so every special character is a percent sequence.
        const encoded = encodeURIComponent(key).replace(/%20/g, '+');
        expectInvalidKey(await postTrigger(svc, s3Event({ key: encoded })), rule, shown);
        const delivered = await postTrigger(svc, JSON.stringify(signer.notification(s3Event({ key: encoded }))), {
          'content-type': 'text/plain; charset=UTF-8',
          'x-amz-sns-message-type': 'Notification',
        });
        expectInvalidKey(delivered, rule, shown);
      });
    }

    it('should refuse a key with a lone surrogate in an S3 event', async () => {
      expectInvalidKey(await postTrigger(svc, s3Event({ key: 'a\ud800.csv' })), /lone surrogate/, '"a\\ud800.csv"');
    });

    it('should cut a long key in the message and keep the message one line', async () => {
      const answer = await postTrigger(svc, { key: `a\u2028${'x'.repeat(2000)}` });
      expect(answer.body.error.code).to.equal('invalid_key');
      expect(answer.body.error.message).to.have.length.below(300);
      expect(answer.body.error.message).to.contain('"a\\u2028xxx');
      expect(answer.body.error.message).to.not.match(/[\n\r\u2028\u2029]/);
    });

    it('should refuse a whole S3 event when one of its records breaks a rule: no job for the good records', async () => {
      const answer = await postTrigger(
        svc,
        s3Event({ key: 'good/a.csv' }, { key: 'x/%2E%2E/y.csv' }, { key: 'good/b.csv' }),
      );
      expectInvalidKey(answer, /segment 2 is "\.\."/, '"x/../y.csv"');
      const keys = await jobKeys();
      expect(keys).to.not.include('good/a.csv');
      expect(keys).to.not.include('good/b.csv');
    });

    it('should refuse a REST trigger for an output of the service, even one that exists', async () => {
      await svc.service.s3.send(
        new PutObjectCommand({ Bucket: 'ingest', Key: 'processed/ingest/x.csv/rows.ndjson', Body: '{"name":"Ada"}\n' }),
      );
      expectInvalidKey(
        await postTrigger(svc, { key: 'processed/ingest/x.csv/rows.ndjson' }),
        /under OUTPUT_PREFIX/,
        '"processed/ingest/x.csv/rows.ndjson"',
      );
    });
  });

  describe('bucket_not_allowed', () => {
    it('should refuse a REST trigger for a bucket outside ALLOWED_BUCKETS, even one the credentials reach', async () => {
      const answer = await postTrigger(svc, { bucket: 'secret-bucket', key: 'payroll.csv' });
      expect(answer.status, JSON.stringify(answer.body)).to.equal(403);
      expect(answer.body.error.code).to.equal('bucket_not_allowed');
      expect(answer.body.error.message).to.contain('"secret-bucket"');
      expect(await jobKeys()).to.not.include('payroll.csv');
    });

    it('should refuse an S3 event, an EventBridge event and an SNS delivery naming another bucket', async () => {
      const answers = [
        await postTrigger(svc, s3Event({ key: 'good/a.csv' }, { bucket: 'secret-bucket', key: 'payroll.csv' })),
        await postTrigger(svc, eventBridge('payroll.csv', 'secret-bucket')),
        await postTrigger(
          svc,
          JSON.stringify(signer.notification(s3Event({ bucket: 'secret-bucket', key: 'payroll.csv' }))),
          {
            'content-type': 'text/plain; charset=UTF-8',
            'x-amz-sns-message-type': 'Notification',
          },
        ),
      ];
      expect(answers.map((answer) => [answer.status, answer.body.error?.code])).to.deep.equal([
        [403, 'bucket_not_allowed'],
        [403, 'bucket_not_allowed'],
        [403, 'bucket_not_allowed'],
      ]);
      expect(await jobKeys()).to.not.include('payroll.csv');
    });
  });

  describe('outputs per bucket', () => {
    it('should give the same key in two allowed buckets separate outputs, each job downloading its own rows', async function () {
      this.timeout(30_000);
      const ids: string[] = [];
      for (const bucket of ['ingest', 'other']) {
        const answer = await postTrigger(svc, { bucket, key: 'same/people.csv' });
        expect(answer.status, JSON.stringify(answer.body)).to.equal(202);
        const job = await waitForJob(svc, answer.body.jobs[0].id);
        expect(job['status'], JSON.stringify(job)).to.equal('succeeded');
        ids.push(answer.body.jobs[0].id as string);
      }
      const jobs = await Promise.all(
        ids.map(
          async (id) => (await svc.fetch(`/v1/jobs/${id}`)).json() as Promise<{ output: Record<string, string> }>,
        ),
      );
      expect(jobs.map((job) => job.output)).to.deep.equal([
        {
          bucket: 'ingest',
          rows: 'processed/ingest/same/people.csv/rows.ndjson',
          rejects: 'processed/ingest/same/people.csv/rejects.ndjson',
          manifest: 'processed/ingest/same/people.csv/manifest.json',
        },
        {
          bucket: 'ingest',
          rows: 'processed/other/same/people.csv/rows.ndjson',
          rejects: 'processed/other/same/people.csv/rejects.ndjson',
          manifest: 'processed/other/same/people.csv/manifest.json',
        },
      ]);
      const rows = await Promise.all(ids.map(async (id) => (await svc.fetch(`/v1/jobs/${id}/outputs/rows`)).text()));
      expect(rows).to.deep.equal(['{"name":"ingest-row"}\n', '{"name":"other-row"}\n']);
      const manifests = await Promise.all(
        ids.map(
          async (id) =>
            (await svc.fetch(`/v1/jobs/${id}/outputs/manifest`)).json() as Promise<{
              jobId: string;
              source: { bucket: string };
            }>,
        ),
      );
      expect(manifests.map((manifest) => [manifest.jobId, manifest.source.bucket])).to.deep.equal([
        [ids[0], 'ingest'],
        [ids[1], 'other'],
      ]);
    });
  });
});

describe('embedded S3 events (key rules)', () => {
  let svc: TestService;

  before(async () => {
    svc = await startTestService();
  });
  after(async () => svc.stop());

  it('should start no job for an object whose key breaks a rule, and log why', async () => {
    // A C1 control (NEL): the embedded server stores it (it refuses C0 controls itself), the key rules do not accept
    // it.
    await svc.service.s3.send(
      new PutObjectCommand({ Bucket: 'ingest', Key: 'embedded/nel\u0085here.csv', Body: 'a\n1\n' }),
    );
    const deadline = Date.now() + 5000;
    let refused: Record<string, unknown> | undefined;
    while (refused === undefined && Date.now() < deadline) {
      refused = svc
        .logs()
        .find(
          (line) =>
            line['message'] === 'embedded S3 event not accepted' && line['key'] === 'embedded/nel\u0085here.csv',
        );
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(refused).to.include({ code: 'invalid_key' });
    const listed = (await (await svc.fetch('/v1/jobs')).json()) as { jobs: unknown[] };
    expect(listed.jobs).to.deep.equal([]);
  });
});
