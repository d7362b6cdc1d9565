import { expect } from 'chai';
import { startTestService, type TestService } from '../../helpers/test-service.ts';

const TOKEN = 'the-right-token-0123456789';
const JOB = '3f1c7a52-52a4-4a5a-9b8b-8f6f0f0f0f0f';

function uploadForm(): FormData {
  const data = new FormData();
  data.append('file', new Blob(['a\n1\n']), 'a.csv');
  return data;
}

const ROUTES: { method: string; path: string; body?: () => string | FormData; type?: string }[] = [
  {
    method: 'POST',
    path: '/v1/trigger',
    body: () => JSON.stringify({ key: 'a.csv', versionId: 'v' }),
    type: 'application/json',
  },
  { method: 'POST', path: '/v1/uploads', body: uploadForm },
  { method: 'GET', path: '/v1/jobs' },
  { method: 'GET', path: `/v1/jobs/${JOB}` },
  { method: 'DELETE', path: `/v1/jobs/${JOB}` },
  { method: 'GET', path: `/v1/jobs/${JOB}/outputs/rows` },
];

describe('requireToken on /v1', () => {
  let svc: TestService;

  before(async () => {
    svc = await startTestService({ env: { API_TOKEN: TOKEN }, embeddedS3Events: false });
  });
  after(async () => svc.stop());

  const call = (route: (typeof ROUTES)[number], authorization: string | undefined) => {
    const headers: Record<string, string> = {};
    if (authorization !== undefined) headers['authorization'] = authorization;
    if (route.type !== undefined) headers['content-type'] = route.type;
    return fetch(new URL(route.path, svc.url), {
      method: route.method,
      headers,
      ...(route.body ? { body: route.body() } : {}),
    });
  };

  for (const route of ROUTES) {
    it(`should answer ${route.method} ${route.path} with 401 without the token, with a wrong one, and not with the right one`, async () => {
      const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;
      for (const authorization of [
        undefined,
        `Bearer ${TOKEN}x`,
        `Bearer ${TOKEN.slice(0, -1)}`,
        `Basic ${TOKEN}`,
        'Bearer',
        TOKEN,
        basic(`sns:${TOKEN}x`),
        basic(TOKEN),
      ]) {
        const response = await call(route, authorization);
        expect(response.status, String(authorization)).to.equal(401);
        expect(response.headers.get('www-authenticate')).to.equal('Bearer realm="s3-csv-ingest"');
        expect(response.headers.get('x-request-id')).to.be.a('string');
        const body = (await response.json()) as { error: { code: string; message: string } };
        expect(body.error.code).to.equal('unauthorized');
      }
      const allowed = await call(route, `Bearer ${TOKEN}`);
      expect(allowed.status).to.not.equal(401);
      await allowed.body?.cancel();
      // An SNS HTTPS subscription to https://sns:<token>@host/… sends the token as HTTP Basic.
      const viaBasic = await call(route, basic(`sns:${TOKEN}`));
      expect(viaBasic.status).to.not.equal(401);
      await viaBasic.body?.cancel();
    });
  }

  it('should leave /healthz and /readyz open', async () => {
    for (const path of ['/healthz', '/readyz'])
      expect((await fetch(new URL(path, svc.url))).status, path).to.equal(200);
  });
});
