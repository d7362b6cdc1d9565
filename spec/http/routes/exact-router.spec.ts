import { expect } from 'chai';
import { appRoutes, type AppRoute } from '../../helpers/app-routes.ts';
import { rawRequest, type RawAnswer } from '../../helpers/raw-request.ts';
import { startTestService, type TestService } from '../../helpers/test-service.ts';

const TOKEN = 'exact-routes-token-0123456789';
/** A value for each path parameter, so the exact spelling reaches the handler. */
const SAMPLE: Readonly<Record<string, string>> = { id: '3f1c7a52-52a4-4a5a-9b8b-8f6f0f0f0f0f', name: 'rows' };

type Segment = { readonly literal: boolean; readonly text: string };

function segmentsOf(path: string): Segment[] {
  return path
    .split('/')
    .slice(1)
    .filter((text) => text !== '')
    .map((text) =>
      text.startsWith(':') ? { literal: false, text: SAMPLE[text.slice(1)] ?? 'x' } : { literal: true, text },
    );
}

const join = (segments: readonly Segment[]) => `/${segments.map((segment) => segment.text).join('/')}`;
const firstLiteral = (segments: readonly Segment[]) => segments.findIndex((segment) => segment.literal);
const lastLiteral = (segments: readonly Segment[]) => segments.findLastIndex((segment) => segment.literal);
const replaceAt = (segments: readonly Segment[], index: number, change: (text: string) => string) =>
  index < 0
    ? segments
    : segments.map((segment, at) => (at === index ? { ...segment, text: change(segment.text) } : segment));
const escapeFirst = (hex: (code: string) => string) => (text: string) =>
  `%${hex(text.charCodeAt(0).toString(16).padStart(2, '0'))}${text.slice(1)}`;
const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** Other spellings of a route's path: none of them may reach a route. Parameters keep their sample values. */
function spellings(path: string): string[] {
  const segments = segmentsOf(path);
  const exact = join(segments);
  const literalsUpper = segments.map((segment) =>
    segment.literal ? { ...segment, text: segment.text.toUpperCase() } : segment,
  );
  const variants = [
    join(literalsUpper),
    join(replaceAt(segments, firstLiteral(segments), capitalise)),
    join(replaceAt(segments, lastLiteral(segments), (text) => text.toUpperCase())),
    `${exact}/`,
    `/${exact}`,
    exact.replace(/^(\/[^/]+)\//, '$1//'),
    `${exact}//`,
    join(
      replaceAt(
        segments,
        firstLiteral(segments),
        escapeFirst((hex) => hex.toUpperCase()),
      ),
    ),
    join(
      replaceAt(
        segments,
        lastLiteral(segments),
        escapeFirst((hex) => hex.toLowerCase()),
      ),
    ),
    exact.replace(/^(\/[^/]+)\//, '$1%2F'),
    exact.replace(/^(\/[^/]+)\//, '$1%2f'),
    exact.replace(/^(\/[^/]+)\//, '$1/./'),
    exact.replace(/^(\/[^/]+)\//, '$1/x/../'),
    // Appended to a parameter, these would only be another value of it.
    ...(segments.at(-1)?.literal === true ? [`${exact}%20`, `${exact}.`] : []),
  ];
  return [...new Set(variants)].filter((variant) => variant !== exact && variant !== '/');
}

function errorCode(answer: RawAnswer): unknown {
  expect(answer.headers['content-type'], answer.text).to.match(/^application\/json/);
  return (JSON.parse(answer.text) as { error?: { code?: unknown } }).error?.code;
}

describe('exact routes (every registered route, several spellings)', () => {
  let svc: TestService;
  const routes = appRoutes();
  const v1Routes = routes.filter((route) => route.path.startsWith('/v1/'));

  before(async () => {
    svc = await startTestService({ env: { API_TOKEN: TOKEN, LOG_LEVEL: 'warn' }, embeddedS3Events: false });
  });
  after(async () => svc.stop());

  const send = (route: AppRoute, path: string, authorization?: string) =>
    rawRequest(svc.url, { method: route.method, path, headers: authorization === undefined ? {} : { authorization } });

  it('should find the routes in the routers, /v1 ones among them', () => {
    expect(routes.length).to.be.at.least(14);
    expect(v1Routes.map((route) => `${route.method} ${route.path}`)).to.include.members([
      'GET /v1/jobs',
      'POST /v1/trigger',
      'POST /v1/uploads',
      'GET /v1/events',
    ]);
  });

  it('should not serve the upper-case /V1 routes of the report without the token (404)', async () => {
    const id = SAMPLE['id']!;
    const reproductions = [
      { method: 'GET', path: '/V1/jobs' },
      { method: 'GET', path: '/V1/events' },
      { method: 'GET', path: `/V1/jobs/${id}/outputs/rows` },
      { method: 'POST', path: '/V1/trigger', body: '{"key":"a.csv","versionId":"v"}', type: 'application/json' },
      {
        method: 'POST',
        path: '/V1/uploads',
        body: '--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\na\n1\n\r\n--b--\r\n',
        type: 'multipart/form-data; boundary=b',
      },
    ];
    for (const { method, path, body, type } of reproductions) {
      const answer = await rawRequest(svc.url, {
        method,
        path,
        ...(body === undefined ? {} : { body, headers: { 'content-type': type! } }),
      });
      expect(answer.status, `${method} ${path}`).to.equal(404);
      expect(errorCode(answer)).to.equal('not_found');
    }
  });

  it('should refuse every /v1 route spelled exactly without the token, or with a wrong one (401)', async () => {
    for (const route of v1Routes) {
      const exact = join(segmentsOf(route.path));
      for (const authorization of [undefined, `Bearer ${TOKEN}x`]) {
        const answer = await send(route, exact, authorization);
        expect(answer.status, `${route.method} ${exact}`).to.equal(401);
        expect(errorCode(answer)).to.equal('unauthorized');
        expect(answer.headers['x-content-type-options']).to.equal('nosniff');
      }
    }
  });

  it('should answer every other spelling of every route with 404 not_found, with the token or without', async () => {
    let sent = 0;
    for (const route of routes) {
      for (const path of spellings(route.path)) {
        for (const authorization of [undefined, `Bearer ${TOKEN}`]) {
          const answer = await send(route, path, authorization);
          sent += 1;
          const what = `${route.method} ${path} ${authorization === undefined ? 'without' : 'with'} the token`;
          expect(answer.status, what).to.equal(404);
          expect(errorCode(answer), what).to.equal('not_found');
          expect(answer.headers['x-content-type-options'], what).to.equal('nosniff');
        }
      }
    }
    expect(sent).to.be.at.least(routes.length * 10);
  });

  it('should answer a method a route lacks with 405 and Allow, OPTIONS and unknown methods too, with the token or without', async () => {
    for (const method of ['PUT', 'OPTIONS', 'ACL', 'PROPFIND']) {
      for (const authorization of [undefined, `Bearer ${TOKEN}`]) {
        const answer = await rawRequest(svc.url, {
          method,
          path: '/v1/jobs',
          headers: authorization === undefined ? {} : { authorization },
        });
        expect(answer.status, method).to.equal(405);
        expect(errorCode(answer)).to.equal('method_not_allowed');
        expect(answer.headers['allow']).to.equal('HEAD, GET');
        expect(JSON.parse(answer.text).error.message).to.equal(
          `/v1/jobs does not answer ${method}; it answers HEAD, GET.`,
        );
      }
    }
    for (const method of ['OPTIONS', 'ACL']) {
      const answer = await rawRequest(svc.url, { method, path: '/no/route' });
      expect(answer.status, method).to.equal(404);
      expect(errorCode(answer)).to.equal('not_found');
    }
  });

  it('should answer a path under /v1 that is no route with 404, never serving anything without the token', async () => {
    for (const path of ['/v1', '/v1/', '/v1/nothing-here', '/v1/jobs/x/y/z', '/V1', '/v1/%2e%2e/healthz']) {
      const answer = await rawRequest(svc.url, { path });
      expect(answer.status, path).to.equal(404);
      expect(errorCode(answer), path).to.equal('not_found');
    }
  });
});
