import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import path from 'node:path';
import { isAppError } from '../../../src/errors.ts';
import { createOwnWrites } from '../../../src/jobs/create-own-writes.ts';
import { receiveMultipartUpload, type UploadTarget } from '../../../src/http/uploads/receive-multipart-upload.ts';
import { createS3Client } from '../../../src/storage/create-s3-client.ts';
import { startTestS3, type TestS3 } from '../../helpers/test-s3.ts';
import { createObjectWriter } from '../../../src/storage/create-object-writer.ts';

const MiB = 1024 * 1024;
const BOUNDARY = 'receive-spec-boundary';

/** An HTTP server that answers with what `receiveMultipartUpload` gives or throws (also told to `onError`). */
async function serve(
  target: UploadTarget,
  onError: (error: unknown) => void = () => undefined,
): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    receiveMultipartUpload(req, target).then(
      (received) => res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(received)),
      (error: unknown) => {
        onError(error);
        res
          .writeHead(isAppError(error) ? error.status : 500, { connection: 'close' })
          .end(JSON.stringify({ code: isAppError(error) ? error.code : String(error) }));
      },
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * Sends the head of a multipart upload and `bytes` of its file, then keeps the socket open; resolves with the answer
 * text.
 */
async function partialUpload(port: number, key: string, bytes: number): Promise<string> {
  const socket = await startUpload(port, key, bytes);
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
  await once(socket, 'close');
  return answer;
}

/** Sends the head of a multipart upload and `bytes` of its file; the socket is left open. */
async function startUpload(port: number, key: string, bytes: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(
    `POST /up HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${100 * MiB}\r\n\r\n`,
  );
  socket.write(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="key"\r\n\r\n${key}\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\n`,
  );
  socket.write(Buffer.alloc(bytes, 'x'));
  return socket;
}

describe('receiveMultipartUpload', () => {
  let s3: TestS3;

  before(async () => {
    s3 = await startTestS3();
  });
  after(async () => s3.close());

  const target = (overrides: Partial<UploadTarget> = {}): UploadTarget => ({
    writer: createObjectWriter(s3.client, { bucket: 'ingest', partSize: 5 * MiB, queueSize: 2 }),
    bucket: 'ingest',
    maxBytes: 50 * MiB,
    reservedPrefix: 'processed/',
    allowedBuckets: ['ingest'],
    concurrency: 16,
    timeoutMs: 60_000,
    ownWrites: createOwnWrites(),
    onCleanupError: () => undefined,
    ...overrides,
  });

  const isStored = (key: string) =>
    s3.client.send(new HeadObjectCommand({ Bucket: 'ingest', Key: key })).then(
      () => true,
      () => false,
    );

  it('should fail with client_disconnected, not validation_failed, when the client leaves mid-body, and store nothing', async () => {
    const writer = createObjectWriter(s3.client, { bucket: 'ingest', partSize: 5 * MiB, queueSize: 2 });
    let writing!: () => void;
    const fileStarted = new Promise<void>((resolve) => (writing = resolve));
    let failed!: (error: unknown) => void;
    const failure = new Promise<unknown>((resolve) => (failed = resolve));
    const server = await serve(
      target({
        writer: {
          open: (key, type) => {
            writing();
            return writer.open(key, type);
          },
          remove: (key) => writer.remove(key),
        },
      }),
      failed,
    );
    try {
      const socket = await startUpload(server.port, 'gone/a.bin', MiB);
      await fileStarted;
      socket.destroy();
      expect(await failure).to.include({ code: 'client_disconnected', status: 499 });
      expect(await isStored('gone/a.bin')).to.equal(false);
    } finally {
      await server.close();
    }
  });

  it('should answer a client that stalls mid-body with 400 after the idle timeout, and abort its multipart upload', async () => {
    const server = await serve(target({ idleTimeoutMs: 300 }));
    try {
      const started = performance.now();
      const answer = await partialUpload(server.port, 'stall/a.bin', 6 * MiB);
      expect(answer).to.match(/^HTTP\/1\.1 400/);
      expect(answer).to.contain('validation_failed');
      expect(performance.now() - started).to.be.below(5000);
      expect(await readdir(path.join(s3.directory, 'ingest', '._S3rver_uploads')).catch(() => [])).to.deep.equal([]);
      expect(await isStored('stall/a.bin')).to.equal(false);
    } finally {
      await server.close();
    }
  });

  it('should answer 503 s3_unavailable when S3 cannot be reached, and stop reading the body', async function () {
    this.timeout(30_000);
    const down = createS3Client({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      forcePathStyle: true,
      checksums: 'WHEN_REQUIRED',
      maxAttempts: 1,
    });
    const server = await serve(
      target({ writer: createObjectWriter(down, { bucket: 'ingest', partSize: 5 * MiB, queueSize: 2 }) }),
    );
    try {
      const body = new FormData();
      body.append('file', new Blob([Buffer.alloc(12 * MiB, 'y')]), 'f.bin');
      const response = await fetch(`http://127.0.0.1:${server.port}/up`, { method: 'POST', body });
      expect(response.status).to.equal(503);
      expect(await response.json()).to.deep.equal({ code: 's3_unavailable' });
    } finally {
      down.destroy();
      await server.close();
    }
  });
});
