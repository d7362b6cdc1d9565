import type Router from '@koa/router';
import type { Context } from 'koa';
import {
  catchError,
  concat,
  concatMap,
  EMPTY,
  filter,
  from,
  map,
  merge,
  of,
  take,
  takeWhile,
  timer,
  type Observable,
} from 'rxjs';
import { DEFAULT_RETRY_AFTER_SECONDS } from '../../config/config.ts';
import { AppError } from '../../errors.ts';
import { isFinished, type Job, type JobLifecycleEvent } from '../../jobs/job.ts';
import type { JobStore } from '../../jobs/job-store.ts';
import type { Metrics } from '../../metrics/create-metrics.ts';
import { eventStreamBody } from '../events/event-stream-body.ts';
import { formatSse } from '../events/format-sse.ts';
import { shareEventFrames } from '../events/share-event-frames.ts';
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
  /** Open event streams at most, both routes together (`SSE_MAX_CLIENTS`); past it `503 server_busy`. Default 100. */
  readonly maxClients: number;
  /** `Retry-After` of a stream refused past `maxClients` (`RETRY_AFTER_SECONDS`), s. */
  readonly retryAfterSeconds: number;
  /**
   * Bytes waiting for one client that does not read before it is dropped (closed). Above the largest
   * burst a healthy client takes at once (a 1,000-record trigger sends each client about 0.5 MB in
   * all), so only a stalled client reaches it. Default 4 MiB.
   */
  readonly maxBufferedBytes: number;
}

export const DEFAULT_EVENT_STREAM_CONFIG: EventStreamConfig = Object.freeze({
  keepAliveMs: 15_000,
  progressIntervalMs: 250,
  recheckMs: 5_000,
  maxClients: 100,
  retryAfterSeconds: DEFAULT_RETRY_AFTER_SECONDS,
  maxBufferedBytes: 4 * 1024 * 1024,
});

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
 * Every stream reads one shared stream of ready-made frames; at most `maxClients`
 * are open at once, and a client that stops reading is dropped.
 */
export function eventRoutes(deps: EventRoutesDeps): Router {
  const { events$, store, metrics } = deps;
  const config = { ...DEFAULT_EVENT_STREAM_CONFIG, ...deps.eventStreams };
  const { frames$, batches$ } = shareEventFrames(events$, config);
  // Streams open now, both routes; a slot is taken before the first await so concurrent requests cannot overshoot.
  let open = 0;
  const router = v1Router(deps.apiToken);

  router.get('/v1/events', (ctx) => {
    const release = takeSlot();
    respond(ctx, concat(of(OPENING_FRAME), withKeepAlive(batches$, config.keepAliveMs)), release);
  });

  router.get('/v1/jobs/:id/events', async (ctx) => {
    const release = takeSlot();
    try {
      const id = ctx.params['id'];
      const job = jobIdParam.safeParse(id).success ? await store.get(id as string) : undefined;
      if (job === undefined) throw new AppError('not_found', `There is no job ${String(id)}.`);
      const snapshot = formatSse({ event: 'snapshot', data: job });
      if (isFinished(job.status)) {
        respond(ctx, of(OPENING_FRAME, snapshot), release);
        return;
      }
      respond(ctx, concat(of(OPENING_FRAME, snapshot), withKeepAlive(followJob(job.id), config.keepAliveMs)), release);
    } catch (error) {
      release();
      throw error;
    }
  });

  /** Counts a stream in, or refuses it past `maxClients`; the returned function counts it out (once). */
  function takeSlot(): () => void {
    if (open >= config.maxClients) {
      throw new AppError(
        'server_busy',
        `${config.maxClients} event streams are open, the most this service serves (SSE_MAX_CLIENTS); retry after ${config.retryAfterSeconds} s.`,
        { headers: { 'Retry-After': String(config.retryAfterSeconds) } },
      );
    }
    open += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      open -= 1;
    };
  }

  /** One job's messages until its final one. */
  function followJob(id: string): Observable<string> {
    const live$ = frames$.pipe(filter((item) => item.jobId === id));
    // A job whose final event came before this stream subscribed, or that was
    // cancelled while it waited (its event comes when its turn would have).
    const recheck$ = timer(0, config.recheckMs).pipe(
      concatMap(() => from(store.get(id)).pipe(catchError(() => EMPTY))),
      filter((job): job is Job => job !== undefined && isFinished(job.status)),
      take(1),
      map((job) => ({ frame: formatSse({ event: 'snapshot', data: job }), last: true })),
    );
    return merge(live$, recheck$).pipe(
      takeWhile((item) => !item.last, true),
      map((item) => item.frame),
    );
  }

  function respond(ctx: Context, body$: Observable<string | Buffer>, release: () => void): void {
    ctx.req.socket.setTimeout(0);
    ctx.req.socket.setNoDelay(true);
    ctx.req.socket.setKeepAlive(true);
    ctx.status = 200;
    ctx.type = 'text/event-stream; charset=utf-8';
    ctx.set('Cache-Control', 'no-cache, no-transform');
    ctx.set('X-Accel-Buffering', 'no');
    metrics?.eventStreamClients.inc();
    ctx.body = eventStreamBody(body$, {
      maxBufferedBytes: config.maxBufferedBytes,
      onClose: () => {
        release();
        metrics?.eventStreamClients.dec();
      },
    });
  }

  return router;
}
