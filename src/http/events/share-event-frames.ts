import { map, share, type Observable } from 'rxjs';
import { batchFrames } from './batch-frames.ts';
import { isFinished, type JobLifecycleEvent } from '../../jobs/job.ts';
import { formatSse } from './format-sse.ts';
import { jobEventMessages, type JobChange, type JobEventMessagesConfig } from './job-event-messages.ts';

/** One lifecycle message, framed for `text/event-stream` once, with what a per-job stream filters on. */
export interface EventFrame {
  readonly jobId: string;
  readonly frame: string;
  /** The job's final message (succeeded, failed, cancelled). */
  readonly last: boolean;
}

export interface SharedEventFrames {
  /** Every frame, for the streams of one job (which filter it). */
  readonly frames$: Observable<EventFrame>;
  /** Every frame, joined per turn of the event loop and encoded once, for the streams of every job. */
  readonly batches$: Observable<Buffer>;
}

/**
 * The lifecycle stream as SSE frames, throttled, serialised and framed once and
 * shared by every open event stream: a burst of N events with C clients costs N
 * `JSON.stringify` calls, not N × C, and C writes of one shared buffer rather
 * than N × C writes. Subscribed while at least one stream is open (refCount),
 * so the lifecycle stream has one subscriber from the event routes, or none.
 */
export function shareEventFrames(
  events$: Observable<JobLifecycleEvent>,
  config: JobEventMessagesConfig,
): SharedEventFrames {
  const frames$ = jobEventMessages(events$, config).pipe(
    map((message) => {
      const { job } = message.data as JobChange;
      return { jobId: job.id, frame: formatSse(message), last: isFinished(job.status) };
    }),
    share(),
  );
  const batches$ = batchFrames(frames$.pipe(map((item) => item.frame))).pipe(share());
  return { frames$, batches$ };
}
