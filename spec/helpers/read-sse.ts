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
    waitFor(until, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find(until);
          if (found !== undefined) {
            cleanup();
            resolve(found);
          } else if (finished) {
            cleanup();
            reject(new Error(`the stream ended without the event; got ${JSON.stringify(events.map((e) => e.event))}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no such event in ${timeoutMs} ms; got ${JSON.stringify(events.map((e) => e.event))}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
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
