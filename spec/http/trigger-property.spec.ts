import { PutObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import fc from 'fast-check';
import { NEVER } from 'rxjs';
import { ERROR_CODES } from '../../src/errors.ts';
import { startTestService, type TestService } from '../helpers/test-service.ts';

/** Keys with what breaks decoders: `+`, percent sequences (good and bad), unicode, spaces, slashes. */
const key = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', 'Z', '0', '/', '.', ' ', '+', '%', '2', 'B', 'E', 'ü', '数', '\u0000', '\ud800', '"') , maxLength: 40 }),
  fc.string({ maxLength: 30 }),
  fc.constantFrom('', ' ', 'a.csv', 'x'.repeat(1100), '%', '%ZZ', 'a+b%2Bc', '%C3%28'),
);
const scalar = fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
const etag = fc.oneof(fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), maxLength: 32 }), scalar);
const bucket = fc.oneof(fc.constantFrom('ingest', 'other-bucket', 'Bad_Bucket', 'ab', ''), scalar);

const rest = fc.record({ bucket, key, versionId: scalar, pipeline: fc.oneof(fc.constantFrom('default', 'nope'), scalar), extra: scalar }, { requiredKeys: [] });
const objectForm = fc.record({ object: fc.oneof(fc.record({ key: fc.oneof(key, scalar) }, { requiredKeys: [] }), scalar) }, { requiredKeys: [] });
const s3Record = fc.record({
  eventName: fc.oneof(fc.constantFrom('ObjectCreated:Put', 's3:ObjectCreated:Copy', 'ObjectRemoved:Delete', 'ObjectCreated'), scalar),
  s3: fc.oneof(fc.record({ bucket: fc.record({ name: bucket }), object: fc.record({ key, size: fc.oneof(fc.nat(), scalar), eTag: etag, versionId: scalar }, { requiredKeys: [] }) }, { requiredKeys: [] }), scalar),
}, { requiredKeys: [] });
const s3Event = fc.oneof(
  fc.record({ Records: fc.oneof(fc.array(s3Record, { maxLength: 4 }), scalar) }),
  fc.record({ Event: fc.constantFrom('s3:TestEvent', 's3:Other'), Service: fc.constant('Amazon S3') }),
);
const eventBridge = fc.record({
  source: fc.constantFrom('aws.s3', 'aws.ec2'),
  'detail-type': fc.constantFrom('Object Created', 'Object Deleted', 'Other'),
  detail: fc.oneof(fc.record({ bucket: fc.record({ name: bucket }), object: fc.record({ key, etag, size: scalar, 'version-id': scalar }, { requiredKeys: [] }) }, { requiredKeys: [] }), scalar),
}, { requiredKeys: [] });
const sns = fc.record({
  Type: fc.constantFrom('Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation', 'Other'),
  MessageId: fc.uuid(), TopicArn: fc.string({ maxLength: 20 }), Message: fc.oneof(fc.string({ maxLength: 30 }), fc.constant('{"Records":[]}')),
  Timestamp: fc.constant('2024-02-12T00:00:00.000Z'), SignatureVersion: fc.constantFrom('1', '2', '3'), Signature: fc.base64String({ maxLength: 40 }),
  SigningCertURL: fc.constantFrom('https://sns.us-east-1.amazonaws.com/a.pem', 'https://evil.example/a.pem', 'http://sns.us-east-1.amazonaws.com/a.pem', 'x'),
  SubscribeURL: fc.constantFrom('https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription', 'https://evil.example/'),
  Token: fc.string({ maxLength: 10 }),
}, { requiredKeys: [] });

/** Well-formed events with random keys and ETags: these are accepted (202) or refused whole (429). */
const nearValid = fc.oneof(
  fc.record({ Records: fc.array(fc.record({ eventName: fc.constant('ObjectCreated:Put'), s3: fc.record({ bucket: fc.record({ name: fc.constant('ingest') }), object: fc.record({ key, eTag: fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 1, maxLength: 32 }) }) }) }), { minLength: 1, maxLength: 3 }) }),
  fc.record({ key: fc.constantFrom('present.csv', 'absent.csv') }),
  fc.record({ object: fc.record({ key: fc.constantFrom('present.csv', ' ', '') }) }),
);

const body = fc.oneof(
  { weight: 2, arbitrary: nearValid.map((value) => JSON.stringify(value)) },
  { weight: 4, arbitrary: fc.oneof(rest, objectForm, s3Event, eventBridge, sns).map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
);
const request = fc.record({
  body,
  type: fc.oneof(
    { weight: 6, arbitrary: fc.constant('application/json') },
    { weight: 1, arbitrary: fc.constantFrom('text/plain; charset=UTF-8', 'application/x-www-form-urlencoded', 'application/vnd.api+json') },
  ),
  snsHeader: fc.oneof(
    { weight: 6, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constantFrom('Notification', 'SubscriptionConfirmation', 'Bogus') },
  ),
});

describe('POST /v1/trigger (property)', () => {
  let svc: TestService;

  before(async () => {
    // The fetcher serves nothing: no random SNS message can verify, and nothing leaves the machine.
    svc = await startTestService({ runJob: () => () => NEVER, embeddedS3Events: false, snsFetch: async () => ({ status: 404, body: '' }), env: { LOG_LEVEL: 'warn', SHUTDOWN_TIMEOUT_MS: '50' } });
    await svc.service.s3.send(new PutObjectCommand({ Bucket: 'ingest', Key: 'present.csv', Body: 'a\n1\n' }));
  });
  after(async () => svc.stop());

  it('should answer 1,000 random trigger bodies with a success or the error shape, never a 5xx', async function () {
    this.timeout(120_000);
    const started = performance.now();
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async ({ body: text, type, snsHeader }) => {
        const headers: Record<string, string> = { 'content-type': type };
        if (snsHeader !== undefined) headers['x-amz-sns-message-type'] = snsHeader;
        const response = await svc.fetch('/v1/trigger', { method: 'POST', headers, body: text });
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        expect(response.status, text).to.be.below(500);
        expect(response.headers.get('content-type')).to.match(/^application\/json/);
        const answer = (await response.json()) as { jobs?: unknown; error?: { code: keyof typeof ERROR_CODES; message: unknown; details?: unknown } };
        if (response.status === 200 || response.status === 202) {
          expect(answer.jobs, text).to.be.an('array');
          if (response.status === 202) expect(answer.jobs).to.not.be.empty;
          return;
        }
        expect(answer.error, text).to.be.an('object');
        expect(Object.keys(ERROR_CODES)).to.include(answer.error!.code);
        expect(ERROR_CODES[answer.error!.code].status).to.equal(response.status);
        expect(answer.error!.message).to.be.a('string').and.not.empty;
        if (answer.error!.details !== undefined) expect(answer.error!.details).to.be.an('array');
      }),
      { numRuns: 1000 },
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(`      1,000 bodies in ${seconds.toFixed(1)} s; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
  });
});
