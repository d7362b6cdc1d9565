import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  readonly method: string;
  readonly url: string;
  readonly at: number;
  /** What the proxy answered itself (503, or a rule's status), or undefined when forwarded. */
  readonly injected?: number;
  /** When the answer to it ended; undefined while it is in flight. */
  finishedAt?: number;
}

/**
 * What the proxy does with a request a rule matches: answer it with an S3 error, or forward it late (after
 * `delayMs`, or once `until` settles).
 */
export type ProxyRule = (request: {
  method: string;
  url: string;
}) => { status: number; code: string } | { delayMs: number } | { until: Promise<unknown> } | undefined;

export interface SlowDownProxy {
  readonly endpoint: string;
  readonly requests: ProxiedRequest[];
  /** While on, every request is answered `503 SlowDown` as S3 does when throttling. */
  slowDown(on: boolean): void;
  /** Adds a rule, consulted (in order) for every request while not throttling. */
  rule(rule: ProxyRule): void;
  close(): Promise<void>;
}

function answer(res: http.ServerResponse, status: number, code: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>Injected by the test proxy.</Message></Error>`,
  );
}

/** An HTTP proxy in front of an S3 server that can answer `503 SlowDown` for a while, or as its rules say. */
export async function startSlowDownProxy(upstream: string): Promise<SlowDownProxy> {
  const target = new URL(upstream);
  const requests: ProxiedRequest[] = [];
  const rules: ProxyRule[] = [];
  let throttling = false;
  const server = http.createServer((req, res) => {
    const seen = { method: req.method ?? 'GET', url: req.url ?? '/' };
    const action = throttling
      ? { status: 503, code: 'SlowDown' }
      : rules.map((rule) => rule(seen)).find((a) => a !== undefined);
    const record: ProxiedRequest = {
      ...seen,
      at: Date.now(),
      ...(action && 'status' in action ? { injected: action.status } : {}),
    };
    requests.push(record);
    res.on('close', () => {
      record.finishedAt = Date.now();
    });
    if (action && 'status' in action) {
      req.resume();
      answer(res, action.status, action.code);
      return;
    }
    const forwardNow = () => {
      const forward = http.request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (upstreamRes) => {
          res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
          upstreamRes.pipe(res);
        },
      );
      forward.on('error', () => res.destroy());
      req.pipe(forward);
    };
    if (action && 'until' in action) void action.until.finally(forwardNow);
    else if (action) setTimeout(forwardNow, action.delayMs);
    else forwardNow();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    slowDown(on) {
      throttling = on;
    },
    rule(rule) {
      rules.push(rule);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
