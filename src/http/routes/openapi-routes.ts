import type Router from '@koa/router';
import { readFileSync } from 'node:fs';
import { buildOpenApi } from '../openapi/build-openapi.ts';
import { exactRouter } from './exact-router.ts';

/** `GET /openapi.json`: the OpenAPI 3.1 document, built once. No auth: it describes, it holds no data. */
export function openapiRoutes(): Router {
  // package.json is at the project root, from src/ and from dist/ alike.
  const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  const document = JSON.stringify(buildOpenApi({ version }));
  const router = exactRouter();
  router.get('/openapi.json', (ctx) => {
    ctx.set('Cache-Control', 'no-cache');
    ctx.type = 'application/json';
    ctx.body = document;
  });
  return router;
}
