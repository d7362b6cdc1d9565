import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  readonly method: string;
  readonly url: string;
  readonly at: number;
  /** What the proxy answered itself (503), or undefined when forwarded. */
  readonly injected?: number;
}

export interface SlowDownProxy {
  readonly endpoint: string;
  readonly requests: ProxiedRequest[];
  /** While on, every request is answered `503 SlowDown` as S3 does when throttling. */
  slowDown(on: boolean): void;
  close(): Promise<void>;
}

/** An HTTP proxy in front of an S3 server that can answer `503 SlowDown` for a while. */
export async function startSlowDownProxy(upstream: string): Promise<SlowDownProxy> {
  const target = new URL(upstream);
  const requests: ProxiedRequest[] = [];
  let throttling = false;
  const server = http.createServer((req, res) => {
    const record = { method: req.method ?? 'GET', url: req.url ?? '/', at: Date.now() };
    if (throttling) {
      requests.push({ ...record, injected: 503 });
      req.resume();
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
      return;
    }
    requests.push(record);
    const forward = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    slowDown(on) {
      throttling = on;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
