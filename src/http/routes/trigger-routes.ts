import Router from '@koa/router';
import { koaBody } from 'koa-body';
import { z } from 'zod';
import type { AppDeps } from '../app-deps.ts';
import { parseInput } from '../parse-input.ts';

const restTrigger = z.strictObject({
  bucket: z.string().min(3).max(63).optional(),
  key: z.string().trim().min(1, { message: 'key must not be blank' }).max(1024),
  versionId: z.string().min(1).optional(),
  pipeline: z.string().min(1).optional(),
});

/** `POST /v1/trigger`: validates the trigger, answers 202 with the jobs. Routes only enqueue. */
export function triggerRoutes(deps: Pick<AppDeps, 'acceptJobs' | 'inputBucket'>): Router {
  const router = new Router();
  router.post('/v1/trigger', koaBody({ json: true, text: false, urlencoded: false, multipart: false, jsonLimit: '1mb', jsonStrict: false }), async (ctx) => {
    const body = parseInput(restTrigger, ctx.request.body, 'trigger');
    const jobs = await deps.acceptJobs([{ ...body, bucket: body.bucket ?? deps.inputBucket }], 'rest');
    ctx.status = 202;
    ctx.body = { jobs };
  });
  return router;
}
