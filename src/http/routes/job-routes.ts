import type Router from '@koa/router';
import { AppError } from '../../errors.ts';
import { OUTPUT_NAMES } from '../../jobs/job.ts';
import type { AppDeps } from '../app-deps.ts';
import { parseInput } from '../parse-input.ts';
import { jobIdParam, listJobsQuery, outputNameParam } from '../request-schemas.ts';
import { v1Router } from './v1-router.ts';

/** The jobs API: list, one job, cancel, and stream an output back. */
export function jobRoutes(deps: Pick<AppDeps, 'apiToken' | 'store' | 'cancelJob' | 'openOutput'>): Router {
  const { store, cancelJob, openOutput } = deps;
  const router = v1Router(deps.apiToken);

  router.get('/v1/jobs', async (ctx) => {
    const query = parseInput(listJobsQuery, ctx.query, 'query string');
    const page = await store.list(query);
    ctx.body = { jobs: page.jobs, next: page.next };
  });

  router.get('/v1/jobs/:id', async (ctx) => {
    ctx.body = await findJob(ctx.params['id']);
  });

  router.delete('/v1/jobs/:id', async (ctx) => {
    const id = knownId(ctx.params['id']);
    ctx.status = 202;
    ctx.body = await cancelJob(id);
  });

  router.get('/v1/jobs/:id/outputs/:name', async (ctx) => {
    const job = await findJob(ctx.params['id']);
    const parsedName = outputNameParam.safeParse(ctx.params['name']);
    if (!parsedName.success)
      throw new AppError(
        'not_found',
        `A job has no output ${String(ctx.params['name'])}; its outputs are ${OUTPUT_NAMES.join(', ')}.`,
      );
    const name = parsedName.data;
    if (job.status !== 'succeeded' || job.output === null) {
      throw new AppError('not_found', `The job ${job.id} has no outputs: it is ${job.status}.`);
    }
    const output = await openOutput(job, name);
    ctx.type = output.contentType;
    if (output.contentLength !== undefined) ctx.length = output.contentLength;
    ctx.set(
      'Content-Disposition',
      `attachment; filename="${name === 'manifest' ? 'manifest.json' : `${name}.ndjson`}"`,
    );
    ctx.body = output.body;
  });

  /** A malformed id names no job: 404, like an unknown one. */
  function knownId(rawId: string | undefined): string {
    if (!jobIdParam.safeParse(rawId).success) throw new AppError('not_found', `There is no job ${String(rawId)}.`);
    return rawId as string;
  }

  async function findJob(rawId: string | undefined) {
    const id = knownId(rawId);
    const job = await store.get(id);
    if (job === undefined) throw new AppError('not_found', `There is no job ${id}.`);
    return job;
  }

  return router;
}
