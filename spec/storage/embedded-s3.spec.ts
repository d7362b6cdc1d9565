import type { S3ServiceException } from '@aws-sdk/client-s3';
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { createHash, randomUUID } from 'node:crypto';
import { access, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../../src/errors.ts';
import { createS3Client } from '../../src/storage/create-s3-client.ts';
import {
  startEmbeddedS3,
  type EmbeddedS3,
  type EmbeddedS3Event,
  type EmbeddedS3Exit,
} from '../../src/storage/embedded-s3.ts';
import { MAX_KEY_SEGMENT_BYTES } from '../../src/storage/check-storable-key.ts';
import { DICER_CRASH, send, sendSigned } from '../helpers/raw-s3-request.ts';
import { presignS3Request } from '../helpers/sign-s3-request.ts';

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

function errorOf(promise: Promise<unknown>): Promise<S3ServiceException> {
  return promise.then(
    () => expect.fail('the request succeeded'),
    (error: unknown) => error as S3ServiceException,
  );
}

describe('startEmbeddedS3 (a supervised child process)', function () {
  this.timeout(60_000);
  const Bucket = 'ingest';
  let directory: string;
  let s3: EmbeddedS3;
  let client: ReturnType<typeof createS3Client>;
  const events: EmbeddedS3Event[] = [];
  const exits: EmbeddedS3Exit[] = [];

  before(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'embedded-s3-'));
    s3 = await startEmbeddedS3({
      port: 0,
      directory,
      buckets: [Bucket],
      onEvent: (event) => events.push(event),
      onRestart: (exit) => exits.push(exit),
    });
    client = createS3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      checksums: 'WHEN_REQUIRED',
      credentials: s3.credentials,
    });
  });
  after(async () => {
    client.destroy();
    await s3.close();
    await rm(directory, { recursive: true, force: true });
  });
  // Every refusal below is an answer, not a crash: the same process serves throughout (the kill spec comes last).
  let pid: number | undefined;
  beforeEach(() => (pid = s3.pid));
  afterEach(function () {
    if (this.currentTest?.title.includes('SIGKILL') === true) return;
    expect(s3.pid, "the server's process").to.equal(pid);
    expect(exits).to.deep.equal([]);
  });

  it("should listen on the port it got for port 0, in another process, and serve the SDK's signed requests", async () => {
    expect(s3.port).to.be.above(0);
    expect(s3.endpoint).to.equal(`http://127.0.0.1:${s3.port}`);
    expect(s3.pid).to.be.a('number').and.not.equal(process.pid);
    await client.send(new PutObjectCommand({ Bucket, Key: 'a/b.csv', Body: 'a,b\n1,2\n', ContentType: 'text/csv' }));
    const got = await client.send(new GetObjectCommand({ Bucket, Key: 'a/b.csv' }));
    expect(await got.Body!.transformToString()).to.equal('a,b\n1,2\n');
    expect(got.ContentType).to.equal('text/csv');
    expect(events.map((event) => [event.eventName, event.s3.object.key])).to.deep.include([
      'ObjectCreated:Put',
      'a/b.csv',
    ]);
  });

  it(`should store segments of up to ${MAX_KEY_SEGMENT_BYTES} bytes whole: object, ETag and metadata`, async () => {
    const long = 'é'.repeat(Math.floor(MAX_KEY_SEGMENT_BYTES / 2)) + 'x'.repeat(MAX_KEY_SEGMENT_BYTES % 2);
    for (const Key of [long, `${long}/${long}`]) {
      await client.send(
        new PutObjectCommand({ Bucket, Key, Body: 'long', ContentType: 'text/plain', Metadata: { note: 'kept' } }),
      );
      const head = await client.send(new HeadObjectCommand({ Bucket, Key }));
      expect(head).to.include({
        ContentLength: 4,
        ContentType: 'text/plain',
        ETag: `"${createHash('md5').update('long').digest('hex')}"`,
      });
      expect(head.Metadata).to.deep.equal({ note: 'kept' });
    }
    const listed = await client.send(new ListObjectsV2Command({ Bucket, Prefix: 'é' }));
    expect(listed.Contents?.map((object) => object.Key)).to.have.members([long, `${long}/${long}`]);
  });

  it('should refuse unsigned requests with AccessDenied and store nothing', async () => {
    const put = await send(s3.endpoint, 'PUT', '/ingest/unsigned.csv', {}, 'a,b\n');
    expect(put).to.include({ status: 403, code: 'AccessDenied' });
    const get = await send(s3.endpoint, 'GET', '/ingest/a/b.csv');
    expect(get).to.include({ status: 403, code: 'AccessDenied' });
    expect(await send(s3.endpoint, 'GET', '/')).to.include({ status: 403, code: 'AccessDenied' });
    expect(await errorOf(client.send(new HeadObjectCommand({ Bucket, Key: 'unsigned.csv' })))).to.have.property(
      'name',
      'NotFound',
    );
  });

  it('should refuse a wrong secret with SignatureDoesNotMatch and an unknown key id with InvalidAccessKeyId', async () => {
    for (const [credentials, code] of [
      [{ accessKeyId: 'S3RVER', secretAccessKey: 'guessed' }, 'SignatureDoesNotMatch'],
      [{ accessKeyId: 'AKIAOTHER', secretAccessKey: 'S3RVER' }, 'InvalidAccessKeyId'],
    ] as const) {
      const other = createS3Client({
        endpoint: s3.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        checksums: 'WHEN_REQUIRED',
        credentials,
        maxAttempts: 1,
      });
      try {
        const error = await errorOf(other.send(new PutObjectCommand({ Bucket, Key: 'forged.csv', Body: 'x' })));
        expect(error).to.have.property('name', code);
        expect(error.$metadata.httpStatusCode).to.equal(403);
      } finally {
        other.destroy();
      }
    }
    expect(await errorOf(client.send(new HeadObjectCommand({ Bucket, Key: 'forged.csv' })))).to.have.property(
      'name',
      'NotFound',
    );
  });

  it('should serve a presigned URL, and refuse it from a web page (Origin) or changed', async () => {
    const host = new URL(s3.endpoint).host;
    const query = await presignS3Request({ method: 'GET', host, path: '/ingest/a/b.csv' }, 60);
    expect(await send(s3.endpoint, 'GET', `/ingest/a/b.csv?${query}`)).to.include({ status: 200, body: 'a,b\n1,2\n' });
    expect(await send(s3.endpoint, 'GET', `/ingest/a/b.csv?${query}`, { origin: 'https://evil.example' })).to.include({
      status: 403,
      code: 'AccessDenied',
    });
    expect(await send(s3.endpoint, 'GET', `/ingest/a/b.csv?${query}`, { 'sec-fetch-site': 'cross-site' })).to.include({
      status: 403,
      code: 'AccessDenied',
    });
    expect(await send(s3.endpoint, 'GET', `/ingest/a/c.csv?${query}`)).to.include({
      status: 403,
      code: 'SignatureDoesNotMatch',
    });
  });

  it('should refuse a key segment over the bound with KeyTooLongError (it killed the service: ENAMETOOLONG)', async () => {
    for (const Key of ['x'.repeat(241), `dir/${'x'.repeat(MAX_KEY_SEGMENT_BYTES + 1)}`, `${'y'.repeat(300)}/z.csv`]) {
      const error = await errorOf(client.send(new PutObjectCommand({ Bucket, Key, Body: 'x' })));
      expect(error).to.have.property('name', 'KeyTooLongError');
      expect(error.$metadata.httpStatusCode).to.equal(400);
    }
    expect(await send(s3.endpoint, 'PUT', `/ingest/${'x'.repeat(241)}`, {}, 'x')).to.include({
      status: 403,
      code: 'AccessDenied',
    });
    await client.send(new HeadObjectCommand({ Bucket, Key: 'a/b.csv' }));
  });

  it("should refuse a key with s3rver's own suffix with InvalidArgument, so the plain key stays storable (it killed the service: EISDIR)", async () => {
    const error = await errorOf(client.send(new PutObjectCommand({ Bucket, Key: 'x._S3rver_object/y', Body: 'y' })));
    expect(error).to.have.property('name', 'InvalidArgument');
    expect(error.$metadata.httpStatusCode).to.equal(400);
    await client.send(new PutObjectCommand({ Bucket, Key: 'x', Body: 'x' }));
    expect(await (await client.send(new GetObjectCommand({ Bucket, Key: 'x' }))).Body!.transformToString()).to.equal(
      'x',
    );
  });

  it('should refuse dot segments, plain or encoded, with InvalidArgument and write nothing outside its directory', async () => {
    const name = `escape-${randomUUID()}`;
    const outside = path.join(os.tmpdir(), `${name}._S3rver_object`);
    for (const rawPath of [
      `/ingest/../../../..${os.tmpdir()}/${name}`,
      `/ingest/%2e%2e/%2E%2E/..%2F..%2F..${os.tmpdir()}/${name}`,
      `/ingest/a/./${name}`,
    ]) {
      expect(await sendSigned(s3.endpoint, 'PUT', rawPath, {}, 'escaped'), rawPath).to.include({
        status: 400,
        code: 'InvalidArgument',
      });
      expect(await send(s3.endpoint, 'PUT', rawPath, {}, 'escaped'), rawPath).to.include({
        status: 403,
        code: 'AccessDenied',
      });
    }
    expect(await sendSigned(s3.endpoint, 'PUT', `/../${name}`, {}, 'escaped')).to.include({
      status: 400,
      code: 'InvalidBucketName',
    });
    expect(await sendSigned(s3.endpoint, 'PUT', `//ingest/${name}`, {}, 'escaped')).to.include({
      status: 400,
      code: 'InvalidBucketName',
    });
    expect(await exists(outside)).to.equal(false);
    expect(await exists(path.join(path.dirname(directory), `${name}._S3rver_object`))).to.equal(false);
  });

  it('should check keys that come in a header or a body too: copy source, multi-object delete', async () => {
    const copy = await errorOf(
      client.send(new CopyObjectCommand({ Bucket, Key: 'copied.csv', CopySource: 'ingest/../../../etc/hostname' })),
    );
    expect(copy).to.have.property('name', 'InvalidArgument');
    const removal = await errorOf(
      client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: '../../outside' }] } })),
    );
    expect(removal).to.have.property('name', 'InvalidArgument');
    expect(removal.$metadata.httpStatusCode).to.equal(400);
  });

  it("should refuse a malformed multipart POST before s3rver's busboy 0.3 parses it (the dicer crash)", async () => {
    expect(await send(s3.endpoint, 'POST', '/ingest', DICER_CRASH.headers, DICER_CRASH.body)).to.include({
      status: 403,
      code: 'AccessDenied',
    });
    expect(await sendSigned(s3.endpoint, 'POST', '/ingest', DICER_CRASH.headers, DICER_CRASH.body)).to.include({
      status: 405,
      code: 'MethodNotAllowed',
    });
    expect(await sendSigned(s3.endpoint, 'POST', '/ingest/a.csv', DICER_CRASH.headers, DICER_CRASH.body)).to.include({
      status: 405,
      code: 'MethodNotAllowed',
    });
    // The POSTs the service makes still work (multipart uploads: create, complete).
    expect(await sendSigned(s3.endpoint, 'POST', '/ingest/out.ndjson?uploads')).to.include({ status: 200 });
    await client.send(new HeadObjectCommand({ Bucket, Key: 'a/b.csv' }));
  });

  it('should start a new process on the same port and data after a SIGKILL, and keep forwarding events', async function () {
    this.timeout(90_000);
    const killed = s3.pid!;
    process.kill(killed, 'SIGKILL');
    const deadline = Date.now() + 60_000;
    for (;;) {
      const answer = await client.send(new GetObjectCommand({ Bucket, Key: 'a/b.csv' })).then(
        (got) => got.Body!.transformToString(),
        (error: unknown) => error,
      );
      if (answer === 'a,b\n1,2\n') break;
      if (Date.now() > deadline) expect.fail(`the server did not come back: ${String(answer)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(exits).to.have.length(1);
    expect(exits[0]).to.include({ signal: 'SIGKILL', restarts: 1 });
    expect(s3.pid).to.be.a('number').and.not.equal(killed);
    expect(await send(s3.endpoint, 'GET', '/ingest/a/b.csv')).to.include({ status: 403, code: 'AccessDenied' });
    await client.send(new PutObjectCommand({ Bucket, Key: 'after-restart.csv', Body: 'a\n' }));
    expect(events.map((event) => event.s3.object.key)).to.include('after-restart.csv');
  });
});

describe('startEmbeddedS3 (start and close)', function () {
  // Each start is a Node process loading s3rver: seconds on a loaded machine.
  this.timeout(60_000);
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'embedded-s3-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('should stop its process on close() and not start it again', async () => {
    const exits: EmbeddedS3Exit[] = [];
    const s3 = await startEmbeddedS3({
      port: 0,
      directory,
      buckets: ['ingest'],
      onRestart: (exit) => exits.push(exit),
    });
    const pid = s3.pid!;
    await s3.close();
    expect(() => process.kill(pid, 0))
      .to.throw()
      .with.property('code', 'ESRCH');
    expect(s3.pid).to.equal(undefined);
    expect(exits).to.deep.equal([]);
  });

  it('should fail to start, saying why, when its port is taken', async () => {
    const first = await startEmbeddedS3({ port: 0, directory, buckets: ['ingest'] });
    try {
      const error = await startEmbeddedS3({ port: first.port, directory, buckets: ['ingest'] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(AppError).and.include({ code: 'internal' });
      expect((error as Error).message).to.match(
        new RegExp(`^The embedded S3 server did not start on 127\\.0\\.0\\.1:${first.port}: .*EADDRINUSE`, 's'),
      );
    } finally {
      await first.close();
    }
  });
});
