import { PutObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import fc from 'fast-check';
import http from 'node:http';
import { NEVER } from 'rxjs';
import { ERROR_CODES } from '../../../src/errors.ts';
import { errorBody, triggerAnswer } from '../../../src/http/openapi/response-schemas.ts';
import { appRoutes } from '../../helpers/app-routes.ts';
import { rawRequest } from '../../helpers/raw-request.ts';
import { startTestService, type TestService } from '../../helpers/test-service.ts';

/** Keys with what breaks decoders: `+`, percent sequences (good and bad), unicode, spaces, slashes. */
const key = fc.oneof(
  fc.string({
    unit: fc.constantFrom('a', 'Z', '0', '/', '.', ' ', '+', '%', '2', 'B', 'E', 'ü', '数', '\u0000', '\ud800', '"'),
    maxLength: 40,
  }),
  fc.string({ maxLength: 30 }),
  fc.constantFrom('', ' ', 'a.csv', 'x'.repeat(1100), '%', '%ZZ', 'a+b%2Bc', '%C3%28'),
);
const scalar = fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
const etag = fc.oneof(fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), maxLength: 32 }), scalar);
const bucket = fc.oneof(fc.constantFrom('ingest', 'other-bucket', 'Bad_Bucket', 'ab', ''), scalar);

const rest = fc.record(
  { bucket, key, versionId: scalar, pipeline: fc.oneof(fc.constantFrom('default', 'nope'), scalar), extra: scalar },
  { requiredKeys: [] },
);
const objectForm = fc.record(
  { object: fc.oneof(fc.record({ key: fc.oneof(key, scalar) }, { requiredKeys: [] }), scalar) },
  { requiredKeys: [] },
);
const s3Record = fc.record(
  {
    eventName: fc.oneof(
      fc.constantFrom('ObjectCreated:Put', 's3:ObjectCreated:Copy', 'ObjectRemoved:Delete', 'ObjectCreated'),
      scalar,
    ),
    s3: fc.oneof(
      fc.record(
        {
          bucket: fc.record({ name: bucket }),
          object: fc.record(
            { key, size: fc.oneof(fc.nat(), scalar), eTag: etag, versionId: scalar },
            { requiredKeys: [] },
          ),
        },
        { requiredKeys: [] },
      ),
      scalar,
    ),
  },
  { requiredKeys: [] },
);
const s3Event = fc.oneof(
  fc.record({ Records: fc.oneof(fc.array(s3Record, { maxLength: 4 }), scalar) }),
  fc.record({ Event: fc.constantFrom('s3:TestEvent', 's3:Other'), Service: fc.constant('Amazon S3') }),
);
const eventBridge = fc.record(
  {
    source: fc.constantFrom('aws.s3', 'aws.ec2'),
    'detail-type': fc.constantFrom('Object Created', 'Object Deleted', 'Other'),
    detail: fc.oneof(
      fc.record(
        {
          bucket: fc.record({ name: bucket }),
          object: fc.record({ key, etag, size: scalar, 'version-id': scalar }, { requiredKeys: [] }),
        },
        { requiredKeys: [] },
      ),
      scalar,
    ),
  },
  { requiredKeys: [] },
);
const sns = fc.record(
  {
    Type: fc.constantFrom('Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation', 'Other'),
    MessageId: fc.uuid(),
    TopicArn: fc.string({ maxLength: 20 }),
    Message: fc.oneof(fc.string({ maxLength: 30 }), fc.constant('{"Records":[]}')),
    Timestamp: fc.constant('2024-02-12T00:00:00.000Z'),
    SignatureVersion: fc.constantFrom('1', '2', '3'),
    Signature: fc.base64String({ maxLength: 40 }),
    SigningCertURL: fc.constantFrom(
      'https://sns.us-east-1.amazonaws.com/a.pem',
      'https://evil.example/a.pem',
      'http://sns.us-east-1.amazonaws.com/a.pem',
      'x',
    ),
    SubscribeURL: fc.constantFrom(
      'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription',
      'https://evil.example/',
    ),
    Token: fc.string({ maxLength: 10 }),
  },
  { requiredKeys: [] },
);

/** Well-formed events with random keys and ETags: these are accepted (202) or refused whole (429). */
const nearValid = fc.oneof(
  fc.record({
    Records: fc.array(
      fc.record({
        eventName: fc.constant('ObjectCreated:Put'),
        s3: fc.record({
          bucket: fc.record({ name: fc.constant('ingest') }),
          object: fc.record({
            key,
            eTag: fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 1, maxLength: 32 }),
          }),
        }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  }),
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
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'text/plain; charset=UTF-8',
        'application/x-www-form-urlencoded',
        'application/vnd.api+json',
      ),
    },
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
    svc = await startTestService({
      runJob: () => () => NEVER,
      embeddedS3Events: false,
      snsFetch: async () => ({ status: 404, body: '' }),
      env: { LOG_LEVEL: 'warn', SHUTDOWN_TIMEOUT_MS: '50' },
    });
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
        const answer = (await response.json()) as {
          jobs?: unknown;
          error?: { code: keyof typeof ERROR_CODES; message: unknown; details?: unknown };
        };
        // Jobs (200 when none was asked for, 202 when accepted) or the error shape, whose code tells the status.
        expect((answer.error === undefined ? triggerAnswer : errorBody).safeParse(answer).error, text).to.equal(
          undefined,
        );
        const status =
          answer.error === undefined
            ? (answer.jobs as unknown[]).length > 0
              ? 202
              : 200
            : ERROR_CODES[answer.error.code].status;
        expect(response.status, text).to.equal(status);
      }),
      { numRuns: 1000 },
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `      1,000 bodies in ${seconds.toFixed(1)} s; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`,
    );
  });
});

const TOKEN = 'route-property-token';
const JOB = '3f1c7a52-52a4-4a5a-9b8b-8f6f0f0f0f0f';

/** Every route of the app with sample parameters: the paths that mutations start from. */
const concretePaths = [
  ...new Set(appRoutes().map(({ path }) => path.replace(/:id\b/g, JOB).replace(/:name\b/g, 'rows'))),
];

type Mutation = {
  readonly kind: 'case' | 'slash' | 'encode' | 'encode-slash' | 'dot' | 'dot-dot' | 'suffix';
  readonly at: number;
};
const SUFFIXES = ['/', '//', '%20', '.', '?limit=1', ';x', '%00', '%2F', '#x', '/..'];

/**
 * A path changed at one place: a letter's case flipped, a slash or dot segment inserted, a byte escaped, something
 * appended.
 */
function mutate(path: string, { kind, at }: Mutation): string {
  const index = at % Math.max(path.length, 1);
  const slashes = [...path.matchAll(/\//g)].map((match) => match.index);
  const slash = slashes[at % slashes.length] ?? 0;
  const char = path.charAt(index);
  switch (kind) {
    case 'case':
      return (
        path.slice(0, index) +
        (char === char.toUpperCase() ? char.toLowerCase() : char.toUpperCase()) +
        path.slice(index + 1)
      );
    case 'slash':
      return `${path.slice(0, slash)}/${path.slice(slash)}`;
    case 'encode': {
      if (char === '/' || char === '') return path;
      const hex = char.charCodeAt(0).toString(16).padStart(2, '0');
      return `${path.slice(0, index)}%${at % 2 === 0 ? hex : hex.toUpperCase()}${path.slice(index + 1)}`;
    }
    case 'encode-slash':
      return slash === 0 ? path : `${path.slice(0, slash)}%2${at % 2 === 0 ? 'f' : 'F'}${path.slice(slash + 1)}`;
    case 'dot':
      return `${path.slice(0, slash)}/.${path.slice(slash)}`;
    case 'dot-dot':
      return `${path.slice(0, slash)}/x/..${path.slice(slash)}`;
    case 'suffix':
      return path + SUFFIXES[at % SUFFIXES.length]!;
  }
}

const mutation = fc.record({
  kind: fc.constantFrom<Mutation['kind']>('case', 'slash', 'encode', 'encode-slash', 'dot', 'dot-dot', 'suffix'),
  at: fc.nat({ max: 1000 }),
});
const segment = fc.oneof(
  fc.constantFrom(
    'v1',
    'V1',
    'jobs',
    'Jobs',
    'trigger',
    'uploads',
    'events',
    'outputs',
    'rows',
    'manifest',
    'healthz',
    'metrics',
    'assets',
    'app.js',
    'openapi.json',
    JOB,
    '',
    '.',
    '..',
    '%2e%2e',
    '%2F',
    '%6Aobs',
    '%76%31',
    '%',
    '%ZZ',
    '%C3%28',
  ),
  fc.string({ unit: fc.constantFrom(..."aZ0-._~%2eF:@!$&'()*+,;="), maxLength: 12 }),
);
const path = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(...concretePaths) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom(...concretePaths), fc.array(mutation, { minLength: 0, maxLength: 3 }))
      .map(([start, changes]) => changes.reduce(mutate, start)),
  },
  {
    weight: 2,
    arbitrary: fc.array(segment, { minLength: 1, maxLength: 5 }).map((segments) => `/${segments.join('/')}`),
  },
);
/** Every method the HTTP parser knows, CONNECT aside (it is no request for a path). */
const method = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS') },
  { weight: 1, arbitrary: fc.constantFrom(...http.METHODS.filter((name) => name !== 'CONNECT')) },
);
const authorization = fc.constantFrom(
  undefined,
  `Bearer ${TOKEN}`,
  `Bearer ${TOKEN}x`,
  'Bearer',
  `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`,
);
const randomRequest = fc.record({
  method,
  path,
  authorization,
  body: fc.option(
    fc.oneof(
      body,
      fc.constant('--x\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\na\n1\n\r\n--x--\r\n'),
    ),
    { nil: undefined },
  ),
  type: fc.constantFrom(
    'application/json',
    'text/plain',
    'multipart/form-data; boundary=x',
    'multipart/form-data',
    'application/octet-stream',
  ),
});

/** The path as a lenient server would read it: escapes decoded, case folded, empty and dot segments resolved. */
function readsAsV1(rawPath: string): boolean {
  const decoded = rawPath
    .split(/[?#]/)[0]!
    .replace(/%[0-9a-f]{2}/gi, (escape) => String.fromCharCode(Number.parseInt(escape.slice(1), 16)));
  const segments: string[] = [];
  for (const part of decoded.toLowerCase().split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') segments.pop();
    else segments.push(part);
  }
  return segments[0] === 'v1';
}

describe('random paths and methods (property)', () => {
  let svc: TestService;

  before(async () => {
    svc = await startTestService({
      runJob: () => () => NEVER,
      embeddedS3Events: false,
      snsFetch: async () => ({ status: 404, body: '' }),
      env: { API_TOKEN: TOKEN, LOG_LEVEL: 'warn', SHUTDOWN_TIMEOUT_MS: '50' },
    });
    await svc.service.s3.send(new PutObjectCommand({ Bucket: 'ingest', Key: 'present.csv', Body: 'a\n1\n' }));
  });
  after(async () => svc.stop());

  it('should answer 2,000 random requests without a 5xx, errors in the error shape, nothing under a /v1 spelling without the token', async function () {
    this.timeout(120_000);
    const started = performance.now();
    const statuses = new Map<number, number>();
    let v1WithoutToken = 0;
    // Error answers whose body was checked: most of the random requests get one.
    let errorsChecked = 0;
    await fc.assert(
      fc.asyncProperty(randomRequest, async (request) => {
        const headers: Record<string, string> = {};
        if (request.authorization !== undefined) headers['authorization'] = request.authorization;
        if (request.body !== undefined) headers['content-type'] = request.type;
        const answer = await rawRequest(svc.url, {
          method: request.method,
          path: request.path,
          headers,
          ...(request.body === undefined ? {} : { body: request.body }),
        });
        const what = `${request.method} ${request.path} (${request.authorization ?? 'no token'})`;
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        expect(answer.status, what).to.be.within(200, 499);
        expect(answer.headers['x-content-type-options'], what).to.equal('nosniff');
        const tokenSent =
          request.authorization === `Bearer ${TOKEN}` || request.authorization?.startsWith('Basic ') === true;
        if (!tokenSent && readsAsV1(request.path)) {
          v1WithoutToken += 1;
          expect(answer.status, what).to.be.at.least(400);
        }
        if (answer.status < 400 || request.method === 'HEAD') return;
        errorsChecked += 1;
        expect(answer.headers['content-type'], what).to.match(/^application\/json/);
        const body = JSON.parse(answer.text) as { error: { code: keyof typeof ERROR_CODES } };
        expect(errorBody.safeParse(body).error, what).to.equal(undefined);
        expect(ERROR_CODES[body.error.code].status, what).to.equal(answer.status);
      }),
      { numRuns: 2000 },
    );
    expect(v1WithoutToken).to.be.at.least(200);
    expect(errorsChecked).to.be.at.least(1000);
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `      2,000 requests in ${seconds.toFixed(1)} s (${v1WithoutToken} under a /v1 spelling without the token); statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`,
    );
  });
});
