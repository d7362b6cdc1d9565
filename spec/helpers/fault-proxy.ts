import net, { type AddressInfo, type Socket } from 'node:net';

/** A request seen by the proxy. */
export interface ProxiedRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly path: string;
  /** The `Range` header, if any. */
  readonly range: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
}

type RequestMatcher = (request: ProxiedRequest) => boolean;

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: give it to an S3 client as its endpoint. */
  readonly endpoint: string;
  /** Every request that went through, in order. */
  readonly requests: readonly ProxiedRequest[];
  /**
   * Arms a cut: the response to the next matching GET (default: any GET) is
   * ended after `afterBytes` body bytes and its connection closed — or, with
   * `stall`, left open and silent. Cuts are used in the order they were armed;
   * `times` arms it for that many GETs.
   */
  cutGet(afterBytes: number, options?: { times?: number; match?: RequestMatcher; stall?: boolean }): void;
  /**
   * Holds every matching request until what `until` returns (called when it arrives) settles, then
   * forwards it, unless its client has closed the connection meanwhile.
   */
  hold(match: RequestMatcher, until: (request: ProxiedRequest) => Promise<unknown>): void;
  /**
   * Holds every matching request (as `hold`) until `release` is called; `arrived` settles as
   * the first one arrives.
   */
  holdUntilReleased(match: RequestMatcher): { readonly arrived: Promise<void>; readonly release: () => void };
  /** Client connections open now. */
  readonly openConnections: number;
  close(): Promise<void>;
}

interface Cut {
  readonly afterBytes: number;
  readonly stall: boolean;
  readonly match: RequestMatcher;
  times: number;
}

/**
 * A TCP proxy on loopback in front of an HTTP server (the test S3 server) that
 * breaks connections the way networks do: it lets a GET response through up to
 * a byte count, then closes the connection. It parses HTTP/1.1 requests
 * (Content-Length bodies; the SDK does not pipeline) to record them and to know
 * which response belongs to which request.
 */
export async function startFaultProxy(target: { host?: string; port: number }): Promise<FaultProxy> {
  const requests: ProxiedRequest[] = [];
  const cuts: Cut[] = [];
  const holds: { match: RequestMatcher; until: (request: ProxiedRequest) => Promise<unknown> }[] = [];
  const sockets = new Set<Socket>();
  const clients = new Set<Socket>();

  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host ?? '127.0.0.1');
    sockets.add(client).add(upstream);
    clients.add(client);
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', closeBoth).on('close', () => {
      sockets.delete(client);
      clients.delete(client);
      upstream.destroy();
    });
    upstream.on('error', closeBoth).on('close', () => {
      sockets.delete(upstream);
      client.end();
    });

    // Request side: bytes not yet parsed, body bytes still to pass, the forwarding chain.
    let pending = Buffer.alloc(0);
    let bodyLeft = 0;
    let forwarding: Promise<void> = Promise.resolve();
    // Response side: the cut armed for the response under way, and how far it got.
    let armed: Cut | undefined;
    let head = Buffer.alloc(0);
    let bodySent = -1;
    let stalled = false;

    client.on('data', (data: Buffer) => {
      pending = Buffer.concat([pending, data]);
      const pieces: { bytes: Buffer; request?: ProxiedRequest }[] = [];
      for (;;) {
        if (bodyLeft > 0) {
          const take = Math.min(bodyLeft, pending.length);
          if (take === 0) break;
          pieces.push({ bytes: pending.subarray(0, take) });
          pending = pending.subarray(take);
          bodyLeft -= take;
          continue;
        }
        const end = pending.indexOf('\r\n\r\n');
        if (end === -1) break;
        const request = parseRequest(pending.subarray(0, end).toString('latin1'));
        requests.push(request);
        pieces.push({ bytes: pending.subarray(0, end + 4), request });
        pending = pending.subarray(end + 4);
        bodyLeft = Number(request.headers['content-length'] ?? 0);
      }
      forwarding = forwarding.then(async () => {
        for (const piece of pieces) {
          if (piece.request) {
            const request = piece.request;
            await Promise.allSettled(holds.filter((h) => h.match(request)).map((h) => h.until(request)));
            const cut = request.method === 'GET' ? cuts.find((c) => c.times > 0 && c.match(request)) : undefined;
            if (cut) cut.times -= 1;
            armed = cut;
            head = Buffer.alloc(0);
            bodySent = -1;
          }
          if (!upstream.destroyed) upstream.write(piece.bytes);
        }
      });
    });

    upstream.on('data', (data: Buffer) => {
      if (stalled) return;
      if (!armed) {
        client.write(data);
        return;
      }
      let chunk = data;
      if (bodySent < 0) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) return;
        client.write(head.subarray(0, end + 4));
        chunk = head.subarray(end + 4);
        bodySent = 0;
      }
      const room = armed.afterBytes - bodySent;
      if (chunk.length < room) {
        client.write(chunk);
        bodySent += chunk.length;
        return;
      }
      if (armed.stall) {
        client.write(chunk.subarray(0, room));
        stalled = true;
      } else {
        client.end(chunk.subarray(0, room));
        upstream.destroy();
      }
      armed = undefined;
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    cutGet(afterBytes, options = {}) {
      cuts.push({
        afterBytes,
        stall: options.stall ?? false,
        times: options.times ?? 1,
        match: options.match ?? (() => true),
      });
    },
    hold(match, until) {
      holds.push({ match, until });
    },
    holdUntilReleased(match) {
      let arrive!: () => void;
      const arrived = new Promise<void>((resolve) => (arrive = resolve));
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      holds.push({
        match,
        until: () => {
          arrive();
          return released;
        },
      });
      return { arrived, release };
    },
    get openConnections() {
      return clients.size;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function parseRequest(text: string): ProxiedRequest {
  const [requestLine = '', ...headerLines] = text.split('\r\n');
  const [method = '', path = ''] = requestLine.split(' ');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { method, path, range: headers['range'], headers };
}
