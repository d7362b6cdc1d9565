/** One Server-Sent Event as a client sees it. */
export interface SseEvent {
  readonly event: string;
  readonly data: unknown;
  /** ms since the reader started. */
  readonly at: number;
}

export interface SseReader {
  /** Every event so far (comments are counted, not kept). */
  readonly events: SseEvent[];
  /** Keep-alive and other comment lines seen. */
  comments(): number;
  /** Resolves when an event satisfying `until` has arrived; rejects after `timeoutMs`. */
  waitFor(until: (event: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  /** Resolves once `count` comment lines have arrived; rejects after `timeoutMs`. */
  waitForComments(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  /** Leaves: aborts the request. */
  close(): void;
}

/** Reads a `text/event-stream` response body as it arrives. */
export function readSse(response: Response, abort: AbortController): SseReader {
  const started = performance.now();
  const events: SseEvent[] = [];
  const waiters = new Set<() => void>();
  let comments = 0;
  let buffer = '';
  let finished = false;
  const decoder = new TextDecoder();
  const reader = response.body!.getReader();
  const ended = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          let data: string | undefined;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments += 1;
            else if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data = (data === undefined ? '' : `${data}\n`) + line.slice(6);
          }
          if (data !== undefined)
            events.push({ event, data: JSON.parse(data) as unknown, at: performance.now() - started });
          for (const wake of waiters) wake();
        }
      }
    } catch (error) {
      if (!abort.signal.aborted) throw error;
    } finally {
      finished = true;
      for (const wake of waiters) wake();
    }
  })();
  ended.catch(() => undefined);

  return {
    events,
    comments: () => comments,
    ended,
    close: () => abort.abort(),
    waitFor: (until, timeoutMs = 10_000) => wait(() => events.find(until), 'the event', timeoutMs),
    waitForComments: async (count, timeoutMs = 10_000) => {
      await wait(() => (comments >= count ? true : undefined), `${count} comments (${comments} came)`, timeoutMs);
    },
  };

  /** Resolves with what `found` gives once it gives something, as frames arrive. */
  function wait<T>(found: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const seen = () => JSON.stringify(events.map((e) => e.event));
      const check = () => {
        const value = found();
        if (value !== undefined) {
          cleanup();
          resolve(value);
        } else if (finished) {
          cleanup();
          reject(new Error(`the stream ended without ${what}; got ${seen()}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`not ${what} in ${timeoutMs} ms; got ${seen()}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  }
}

/** Opens an event stream with `fetch`; the caller closes it. */
export async function openSse(
  url: string | URL,
  headers: Record<string, string> = {},
): Promise<{ response: Response; sse: SseReader }> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  if (!response.ok) {
    abort.abort();
    return { response, sse: undefined as unknown as SseReader };
  }
  return { response, sse: readSse(response, abort) };
}
