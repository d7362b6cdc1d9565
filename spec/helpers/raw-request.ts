import http from 'node:http';

export interface RawAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
}

export interface RawRequest {
  readonly method?: string;
  /** Sent as written: no URL normalisation (dot segments, double slashes, case and escapes stay). */
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

/**
 * One HTTP request with `node:http`, which, unlike `fetch`, sends the path as it
 * is and lets the caller set `Host`, `Origin` and `Sec-Fetch-Site`. An event
 * stream is answered by its status and headers, its body left unread.
 */
export function rawRequest(baseUrl: string, request: RawRequest): Promise<RawAnswer> {
  const url = new URL(baseUrl);
  // A GET or DELETE body is not chunked by default: without a length its bytes would read as the next request.
  const headers =
    request.body === undefined
      ? request.headers
      : { 'content-length': String(Buffer.byteLength(request.body)), ...request.headers };
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port,
        method: request.method ?? 'GET',
        path: request.path,
        headers,
        agent: false,
      },
      (res) => {
        if (String(res.headers['content-type']).startsWith('text/event-stream')) {
          // An event stream does not end by itself: its opening is the answer.
          res.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: '' });
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(request.body);
  });
}
