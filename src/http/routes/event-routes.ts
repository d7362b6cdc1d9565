import type Router from '@koa/router';
import type { Context } from 'koa';
import { catchError, concat, concatMap, EMPTY, filter, from, map, merge, of, take, takeWhile, timer, type Observable } from 'rxjs';
import { AppError } from '../../errors.ts';
import { isFinished, type Job } from '../../jobs/job.ts';
import type { JobStore } from '../../jobs/job-store.ts';
import type { JobLifecycleEvent } from '../../jobs/record-job-events.ts';
import type { Metrics } from '../../metrics/create-metrics.ts';
import { eventStreamBody } from '../events/event-stream-body.ts';
import { formatSse } from '../events/format-sse.ts';
import { jobEventMessages } from '../events/job-event-messages.ts';
import { withKeepAlive } from '../events/with-keep-alive.ts';
import { jobIdParam } from '../request-schemas.ts';
import { v1Router } from './v1-router.ts';

export interface EventStreamConfig {
  /** Time between keep-alive comments. Default 15 s. */
  readonly keepAliveMs: number;
  /** Least time between two progress messages of one job. Default 250 ms (4 a second). */
  readonly progressIntervalMs: number;
  /** How often a job's stream re-reads the job, to end even if it missed the final event. Default 5 s. */
  readonly recheckMs: number;
}

export const DEFAULT_EVENT_STREAM_CONFIG: EventStreamConfig = Object.freeze({ keepAliveMs: 15_000, progressIntervalMs: 250, recheckMs: 5_000 });

export interface EventRoutesDeps {
  /** Bearer token the routes require; unset: open. */
  readonly apiToken: string | undefined;
  readonly events$: Observable<JobLifecycleEvent>;
  readonly store: Pick<JobStore, 'get'>;
  readonly metrics?: Pick<Metrics, 'eventStreamClients'>;
  readonly eventStreams?: Partial<EventStreamConfig>;
}

/** First frame: asks clients to reconnect after 3 s, and makes the headers go out at once. */
const OPENING_FRAME = ': connected\nretry: 3000\n\n';

/**
 * Server-Sent Events from the job lifecycle stream. `GET /v1/events`: every job's
 * status changes and (throttled) progress, until the service stops.
 * `GET /v1/jobs/:id/events`: a `snapshot` of the job, then its changes; the
 * stream ends after the job's final event (at once when it has already finished).
 */
export function eventRoutes(deps: EventRoutesDeps): Router {
  const { events$, store, metrics } = deps;
  const config = { ...DEFAULT_EVENT_STREAM_CONFIG, ...deps.eventStreams };
  const router = v1Router(deps.apiToken);

  router.get('/v1/events', (ctx) => {
    const messages$ = jobEventMessages(events$, config).pipe(map(formatSse));
    respond(ctx, concat(of(OPENING_FRAME), withKeepAlive(messages$, config.keepAliveMs)));
  });

  router.get('/v1/jobs/:id/events', async (ctx) => {
    const id = ctx.params['id'];
    const job = jobIdParam.safeParse(id).success ? await store.get(id as string) : undefined;
    if (job === undefined) throw new AppError('not_found', `There is no job ${String(id)}.`);
    const snapshot = formatSse({ event: 'snapshot', data: job });
    if (isFinished(job.status)) {
      respond(ctx, of(OPENING_FRAME, snapshot));
      return;
    }
    respond(ctx, concat(of(OPENING_FRAME, snapshot), withKeepAlive(followJob(job.id), config.keepAliveMs)));
  });

  /** One job's messages until its final one. */
  function followJob(id: string): Observable<string> {
    const live$ = jobEventMessages(events$.pipe(filter((event) => event.job.id === id)), config).pipe(
      map((message) => ({ frame: formatSse(message), last: isFinished((message.data as { job: Job }).job.status) })),
    );
    // A job whose final event came before this stream subscribed, or that was
    // cancelled while it waited (its event comes when its turn would have).
    const recheck$ = timer(0, config.recheckMs).pipe(
      concatMap(() => from(store.get(id)).pipe(catchError(() => EMPTY))),
      filter((job): job is Job => job !== undefined && isFinished(job.status)),
      take(1),
      map((job) => ({ frame: formatSse({ event: 'snapshot', data: job }), last: true })),
    );
    return merge(live$, recheck$).pipe(takeWhile((item) => !item.last, true), map((item) => item.frame));
  }

  function respond(ctx: Context, frames$: Observable<string>): void {
    ctx.req.socket.setTimeout(0);
    ctx.req.socket.setNoDelay(true);
    ctx.req.socket.setKeepAlive(true);
    ctx.status = 200;
    ctx.type = 'text/event-stream; charset=utf-8';
    ctx.set('Cache-Control', 'no-cache, no-transform');
    ctx.set('X-Accel-Buffering', 'no');
    metrics?.eventStreamClients.inc();
    ctx.body = eventStreamBody(frames$, { onClose: () => metrics?.eventStreamClients.dec() });
  }

  return router;
}
