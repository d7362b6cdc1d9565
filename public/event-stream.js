/* global AbortController, setTimeout, clearTimeout, fetch, TextDecoderStream, console */
// Reads a Server-Sent Events stream with fetch, so that the API token goes in an
// Authorization header (EventSource cannot send headers, and a token in the URL
// ends up in logs and history). Reconnects with backoff until stopped.

/**
 * @param {string} url
 * @param {{ headers: () => Record<string, string>, onMessage: (event: string, data: unknown) => void,
 *           onState: (state: 'connecting' | 'live' | 'retrying' | 'unauthorized' | 'off', detail?: string) => void,
 *           onOpen?: () => void }} options
 * @returns {{ stop(): void, restart(): void }}
 */
export function followEventStream(url, options) {
  let controller = null;
  let retryTimer = null;
  let delayMs = 1000;

  function start() {
    stopCurrent();
    controller = new AbortController();
    const { signal } = controller;
    options.onState('connecting');
    run(signal).catch((error) => {
      if (signal.aborted) return;
      if (error && error.status === 401) {
        options.onState('unauthorized');
        return;
      }
      options.onState(
        'retrying',
        `${error && error.message ? error.message : error}; retrying in ${Math.round(delayMs / 1000)} s`,
      );
      retryTimer = setTimeout(start, delayMs);
      delayMs = Math.min(delayMs * 2, 15000);
    });
  }

  async function run(signal) {
    const response = await fetch(url, {
      headers: { accept: 'text/event-stream', ...options.headers() },
      signal,
      cache: 'no-store',
    });
    if (!response.ok)
      throw Object.assign(new Error(`the server answered ${response.status}`), { status: response.status });
    delayMs = 1000;
    options.onState('live');
    if (options.onOpen) options.onOpen();
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) throw new Error('the stream ended');
      buffer += value.replace(/\r\n?/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        dispatch(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  }

  function dispatch(block) {
    let event = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length === 0) return;
    try {
      options.onMessage(event, JSON.parse(data.join('\n')));
    } catch (error) {
      console.error('could not handle an event', event, error);
    }
  }

  function stopCurrent() {
    clearTimeout(retryTimer);
    if (controller) controller.abort();
    controller = null;
  }

  start();
  return {
    stop() {
      stopCurrent();
      options.onState('off');
    },
    restart() {
      delayMs = 1000;
      start();
    },
  };
}
