import type Koa from 'koa';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Listening {
  readonly server: Server;
  /** Base URL, from the address actually bound (port 0 picks one). */
  readonly url: string;
  /** Stops accepting connections; idle ones close now, busy ones after a second. */
  close(): Promise<void>;
}

/** Serves the app on `host:port`; a bind error (port in use) rejects. */
export async function listen(app: Koa, options: { readonly port: number; readonly host: string }): Promise<Listening> {
  const server: Server = await new Promise((resolve, reject) => {
    const listening = app.listen(options.port, options.host, () => resolve(listening));
    listening.once('error', reject);
  });
  server.requestTimeout = 0; // uploads may stream for a long time; idle sockets still time out.
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 1_000).unref();
      }),
  };
}
