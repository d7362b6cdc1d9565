import type Router from '@koa/router';
import type { Context } from 'koa';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../../errors.ts';
import { exactRouter } from './exact-router.ts';

export interface DashboardRoutesDeps {
  /** Folder of the page and its assets. Default: `public/` at the project root (from `src/` or `dist/` alike). */
  readonly publicDir?: string;
}

/** The assets the page may load, with their types; nothing else is served. */
const ASSETS: Readonly<Record<string, string>> = {
  'app.js': 'text/javascript; charset=utf-8',
  'event-stream.js': 'text/javascript; charset=utf-8',
  'jobs-table.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

/** Scripts and styles from this origin only, no inline code, requests to this origin only. */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The dashboard: `GET /` (the page) and `GET /assets/:name` (its script, styles
 * and icon), static files with ETags, no auth (the page asks for the API token
 * and sends it with its API calls).
 */
export function dashboardRoutes(deps: DashboardRoutesDeps = {}): Router {
  const publicDir = deps.publicDir ?? fileURLToPath(new URL('../../../public/', import.meta.url));
  const router = exactRouter();

  router.get('/', async (ctx) => {
    ctx.set('Content-Security-Policy', CSP);
    ctx.set('X-Frame-Options', 'DENY');
    await send(ctx, 'index.html', 'text/html; charset=utf-8');
  });

  router.get('/assets/:name', async (ctx) => {
    const name = ctx.params['name'] ?? '';
    const type = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (type === undefined) throw new AppError('not_found', `There is no dashboard asset ${name}.`);
    await send(ctx, name, type);
  });

  async function send(ctx: Context, name: string, type: string): Promise<void> {
    const content = await readFile(path.join(publicDir, name)).catch((error: unknown) => {
      throw new AppError('not_found', `The dashboard file ${name} is missing from ${publicDir}.`, { cause: error });
    });
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.etag = createHash('sha256').update(content).digest('base64url').slice(0, 27);
    ctx.type = type;
    ctx.status = 200;
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    ctx.body = content;
  }

  return router;
}
