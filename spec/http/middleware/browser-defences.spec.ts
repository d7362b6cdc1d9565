import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { NEVER } from 'rxjs';
import { rawRequest, type RawAnswer, type RawRequest } from '../../helpers/raw-request.ts';
import { startTestService, type TestService } from '../../helpers/test-service.ts';

const MULTIPART = 'multipart/form-data; boundary=b';

function uploadBody(key: string): string {
  return [
    '--b',
    'Content-Disposition: form-data; name="key"',
    '',
    key,
    '--b',
    'Content-Disposition: form-data; name="file"; filename="a.csv"',
    'Content-Type: text/csv',
    '',
    'a\n1\n',
    '--b--',
    '',
  ].join('\r\n');
}

function errorCode(answer: RawAnswer): unknown {
  expect(answer.headers['content-type'], answer.text).to.match(/^application\/json/);
  expect(answer.headers['x-content-type-options']).to.equal('nosniff');
  return (JSON.parse(answer.text) as { error?: { code?: unknown } }).error?.code;
}

/** Services whose routes run nothing: a trigger is queued and stays so. */
const start = (env: Record<string, string>) =>
  startTestService({
    runJob: () => () => NEVER,
    embeddedS3Events: false,
    env: { LOG_LEVEL: 'warn', SHUTDOWN_TIMEOUT_MS: '50', ...env },
  });

describe('browser defences (without API_TOKEN)', () => {
  let svc: TestService;
  let port: string;
  let own: string;
  let version = 0;
  const send = (request: RawRequest) => rawRequest(svc.url, request);
  const trigger = (headers: Record<string, string>): RawRequest => ({
    method: 'POST',
    path: '/v1/trigger',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ key: 'a.csv', versionId: `v${(version += 1)}` }),
  });

  before(async () => {
    svc = await start({});
    port = new URL(svc.url).port;
    own = `http://127.0.0.1:${port}`;
  });
  after(async () => svc.stop());

  describe('Host', () => {
    it('should answer a loopback Host, with the port the service listens on or none', async () => {
      for (const host of [
        'localhost',
        `localhost:${port}`,
        '127.0.0.1',
        `127.0.0.1:${port}`,
        '[::1]',
        `[::1]:${port}`,
        `LocalHost:${port}`,
      ]) {
        const answer = await send({ path: '/v1/jobs', headers: { host } });
        expect(answer.status, host).to.equal(200);
      }
    });

    it('should refuse any other Host with 403 forbidden, on every kind of route (DNS rebinding)', async () => {
      const hosts = [
        'evil.example',
        `evil.example:${port}`,
        `localhost:${Number(port) + 1}`,
        `127.0.0.1:${port}0`,
        `localhost.:${port}`,
        `127.0.0.2:${port}`,
        `[::1]:1`,
        `127.0.0.1.evil.example:${port}`,
        `${port}`,
        `[::1]x`,
        '::1',
      ];
      for (const host of hosts) {
        for (const request of [
          { path: '/v1/jobs' },
          { path: '/healthz' },
          { path: '/' },
          { path: '/metrics' },
          { path: '/nothing' },
          trigger({}),
        ]) {
          const answer = await send({ ...request, headers: { ...request.headers, host } });
          expect(answer.status, `${host} ${request.path}`).to.equal(403);
          expect(errorCode(answer)).to.equal('forbidden');
          expect(JSON.parse(answer.text).error.message).to.include('Host');
        }
      }
    });
  });

  describe('cross-site requests', () => {
    it('should refuse a state-changing request marked cross-site or same-site with 403 forbidden', async () => {
      for (const site of ['cross-site', 'same-site', 'Cross-Site']) {
        const answer = await send(trigger({ 'sec-fetch-site': site }));
        expect(answer.status, site).to.equal(403);
        expect(errorCode(answer)).to.equal('forbidden');
      }
      for (const method of ['DELETE', 'PUT', 'PATCH']) {
        const answer = await send({
          method,
          path: '/v1/jobs/3f1c7a52-52a4-4a5a-9b8b-8f6f0f0f0f0f',
          headers: { 'sec-fetch-site': 'cross-site' },
        });
        expect(answer.status, method).to.equal(403);
      }
    });

    it('should refuse a state-changing request from another Origin, or from origin null, with 403 forbidden', async () => {
      for (const origin of [
        'http://evil.example',
        `http://localhost:${port}`,
        `http://127.0.0.1:${Number(port) + 1}`,
        `https://127.0.0.1:${port}`,
        'null',
        'garbage',
      ]) {
        const answer = await send(trigger({ origin }));
        expect(answer.status, origin).to.equal(403);
        expect(errorCode(answer)).to.equal('forbidden');
        expect(JSON.parse(answer.text).error.message).to.include('origin');
      }
    });

    it('should refuse the no-cors multipart upload of another site, and store nothing', async () => {
      const answer = await send({
        method: 'POST',
        path: '/v1/uploads',
        headers: { 'content-type': MULTIPART, 'sec-fetch-site': 'cross-site', origin: 'http://evil.example' },
        body: uploadBody('cross/site.csv'),
      });
      expect(answer.status).to.equal(403);
      expect(errorCode(answer)).to.equal('forbidden');
      const listed = await svc.service.s3.send(new ListObjectsV2Command({ Bucket: 'ingest', Prefix: 'cross/' }));
      expect(listed.KeyCount ?? 0).to.equal(0);
    });

    it("should accept what the service's own pages send, and clients that are no browser", async () => {
      const kinds: Record<string, string>[] = [
        { 'sec-fetch-site': 'same-origin', origin: own },
        { 'sec-fetch-site': 'none' },
        { origin: own.toUpperCase() },
        {},
      ];
      for (const headers of kinds) {
        const answer = await send(trigger(headers));
        expect(answer.status, JSON.stringify(headers)).to.equal(202);
      }
      const upload = await send({
        method: 'POST',
        path: '/v1/uploads',
        headers: { 'content-type': MULTIPART, 'sec-fetch-site': 'same-origin', origin: own },
        body: uploadBody('same/origin.csv'),
      });
      expect(upload.status, upload.text).to.equal(201);
    });

    it('should leave reads alone: a cross-site GET is answered (a browser does not let the page read it)', async () => {
      const answer = await send({
        path: '/v1/jobs',
        headers: { 'sec-fetch-site': 'cross-site', origin: 'http://evil.example' },
      });
      expect(answer.status).to.equal(200);
      expect(answer.headers['access-control-allow-origin']).to.equal(undefined);
    });
  });

  it('should refuse a text/plain trigger without x-amz-sns-message-type with 415 naming application/json', async () => {
    const answer = await send({
      method: 'POST',
      path: '/v1/trigger',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify({ key: 'a.csv', versionId: 'plain' }),
    });
    expect(answer.status).to.equal(415);
    expect(errorCode(answer)).to.equal('unsupported_media_type');
    expect(JSON.parse(answer.text).error.message).to.include('application/json');
  });
});

describe('browser defences (HOST 0.0.0.0 with ALLOW_UNAUTHENTICATED=true)', () => {
  let svc: TestService;

  before(async () => {
    svc = await start({ HOST: '0.0.0.0', ALLOW_UNAUTHENTICATED: 'true' });
  });
  after(async () => svc.stop());

  it('should answer any Host, since its clients name the machine as they know it', async () => {
    for (const host of ['ingest.internal:8080', '10.1.2.3', 'localhost']) {
      expect((await rawRequest(svc.url, { path: '/v1/jobs', headers: { host } })).status, host).to.equal(200);
    }
  });

  it('should still refuse cross-site state-changing requests and a text/plain trigger', async () => {
    const body = JSON.stringify({ key: 'a.csv', versionId: 'v' });
    const crossSite = await rawRequest(svc.url, {
      method: 'POST',
      path: '/v1/trigger',
      headers: { host: 'ingest.internal', origin: 'http://evil.example', 'content-type': 'application/json' },
      body,
    });
    expect(crossSite.status).to.equal(403);
    expect(errorCode(crossSite)).to.equal('forbidden');
    const sameOrigin = await rawRequest(svc.url, {
      method: 'POST',
      path: '/v1/trigger',
      headers: { host: 'ingest.internal', origin: 'http://ingest.internal', 'content-type': 'application/json' },
      body,
    });
    expect(sameOrigin.status).to.equal(202);
    const plain = await rawRequest(svc.url, {
      method: 'POST',
      path: '/v1/trigger',
      headers: { 'content-type': 'text/plain' },
      body,
    });
    expect(plain.status).to.equal(415);
  });
});

describe('browser defences (with API_TOKEN)', () => {
  const TOKEN = 'browser-defences-token';
  let svc: TestService;

  before(async () => {
    svc = await start({ API_TOKEN: TOKEN });
  });
  after(async () => svc.stop());

  it('should leave Host and Origin to the token: a browser never sends it by itself', async () => {
    const authorization = `Bearer ${TOKEN}`;
    expect(
      (await rawRequest(svc.url, { path: '/v1/jobs', headers: { host: 'ingest.example.com', authorization } })).status,
    ).to.equal(200);
    const crossSite = await rawRequest(svc.url, {
      method: 'POST',
      path: '/v1/trigger',
      headers: {
        host: 'ingest.example.com',
        origin: 'https://tools.example.com',
        'sec-fetch-site': 'cross-site',
        'content-type': 'application/json',
        authorization,
      },
      body: JSON.stringify({ key: 'a.csv', versionId: 'v' }),
    });
    expect(crossSite.status).to.equal(202);
    const withoutToken = await rawRequest(svc.url, {
      method: 'POST',
      path: '/v1/trigger',
      headers: { 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(withoutToken.status).to.equal(401);
  });

  it('should refuse a text/plain trigger without x-amz-sns-message-type with 415 in this mode too', async () => {
    const answer = await rawRequest(svc.url, {
      method: 'POST',
      path: '/v1/trigger',
      headers: { 'content-type': 'text/plain', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ key: 'a.csv', versionId: 'v' }),
    });
    expect(answer.status).to.equal(415);
    expect(errorCode(answer)).to.equal('unsupported_media_type');
  });
});
