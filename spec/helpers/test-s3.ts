import type { S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createS3Client } from '../../src/storage/create-s3-client.ts';
import { startEmbeddedS3, type EmbeddedS3, type EmbeddedS3Event } from '../../src/storage/embedded-s3.ts';

export interface TestS3 {
  readonly server: EmbeddedS3;
  readonly client: S3Client;
  readonly endpoint: string;
  /** Where the server keeps its objects (to check for leftovers). */
  readonly directory: string;
  close(): Promise<void>;
}

export interface TestS3Options {
  readonly buckets?: readonly string[];
  readonly onEvent?: (record: EmbeddedS3Event) => void;
  /** Reuse a directory (restart a stopped server on the same data). */
  readonly directory?: string;
  readonly port?: number;
}

/** A real S3-protocol server (the embedded one) on a free loopback port, with a client for it. */
export async function startTestS3(options: TestS3Options = {}): Promise<TestS3> {
  const { buckets = ['ingest'], onEvent, port = 0 } = options;
  const directory = options.directory ?? (await mkdtemp(path.join(os.tmpdir(), 's3-csv-ingest-spec-')));
  const server = await startEmbeddedS3({ port, directory, buckets, ...(onEvent ? { onEvent } : {}) });
  const client = createS3Client({
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    checksums: 'WHEN_REQUIRED',
    credentials: server.credentials,
  });
  return {
    server,
    client,
    endpoint: server.endpoint,
    directory,
    async close() {
      client.destroy();
      await server.close();
      if (options.directory === undefined) await rm(directory, { recursive: true, force: true });
    },
  };
}
