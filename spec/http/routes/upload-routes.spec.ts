import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { startTestService, type TestService } from '../../helpers/test-service.ts';

const MiB = 1024 * 1024;

function form(parts: { name: string; value: string | Blob; filename?: string }[]): FormData {
  const data = new FormData();
  for (const part of parts) {
    if (typeof part.value === 'string') data.append(part.name, part.value);
    else data.append(part.name, part.value, part.filename ?? 'file.csv');
  }
  return data;
}

function bytes(size: number, seed = 1): Buffer {
  const buffer = Buffer.alloc(size);
  for (let i = 0; i < size; i += 1) buffer[i] = (i * 31 + seed) % 251;
  return buffer;
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('POST /v1/uploads', () => {
  let svc: TestService;

  before(async () => {
    svc = await startTestService({
      env: { UPLOAD_MAX_BYTES: String(6 * MiB), S3_PART_SIZE: String(5 * MiB), S3_QUEUE_SIZE: '2' },
    });
  });
  after(async () => svc.stop());

  const upload = async (
    body: FormData | string,
    headers: Record<string, string> = {},
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
  ): Promise<{ status: number; body: any; headers: Headers }> => {
    const response = await svc.fetch('/v1/uploads', { method: 'POST', body, headers });
    return { status: response.status, body: await response.json(), headers: response.headers };
  };
  /** Unfinished multipart uploads s3rver keeps on disk. */
  const unfinishedUploads = async () =>
    readdir(path.join(svc.dataDir, 's3', 'ingest', '._S3rver_uploads')).catch(() => []);
  const exists = async (key: string) =>
    svc.service.s3.send(new HeadObjectCommand({ Bucket: 'ingest', Key: key })).then(
      () => true,
      () => false,
    );

  it('should store the file under a default dated key, answer 201 and queue a job (trigger upload, no HEAD needed)', async () => {
    const content = 'id,name\n1,Ada\n2,Grace\n';
    const answer = await upload(
      form([{ name: 'file', value: new Blob([content], { type: 'text/csv' }), filename: 'My Data (1).csv' }]),
    );
    expect(answer.status, JSON.stringify(answer.body)).to.equal(201);
    const today = new Date().toISOString().slice(0, 10).replace(/-/g, '/');
    expect(answer.body.upload.key).to.match(new RegExp(`^uploads/${today}/[0-9a-f-]{36}-My-Data-1-\\.csv$`));
    expect(answer.body.upload).to.include({ bucket: 'ingest', size: content.length });
    const head = await svc.service.s3.send(new HeadObjectCommand({ Bucket: 'ingest', Key: answer.body.upload.key }));
    expect(answer.body.upload.etag).to.equal(head.ETag);
    expect(head.ContentType).to.equal('text/csv');
    expect(answer.body.job).to.include({ trigger: 'upload', status: 'queued' });
    expect(answer.body.job.source).to.deep.equal({
      bucket: 'ingest',
      key: answer.body.upload.key,
      versionId: null,
      etag: head.ETag,
      size: content.length,
    });
  });

  it('should take the key and process fields before the file; process=false stores without a job', async () => {
    const answer = await upload(
      form([
        { name: 'key', value: 'manual/ünï côdé.csv' },
        { name: 'process', value: 'false' },
        { name: 'file', value: new Blob(['a\n1\n']) },
      ]),
    );
    expect(answer.status, JSON.stringify(answer.body)).to.equal(201);
    expect(answer.body.upload.key).to.equal('manual/ünï côdé.csv');
    expect(answer.body.job).to.equal(null);
    expect(await exists('manual/ünï côdé.csv')).to.equal(true);
  });

  it('should stream a file larger than a part as a multipart upload, byte for byte', async () => {
    const content = bytes(6 * MiB, 7);
    const answer = await upload(
      form([
        { name: 'key', value: 'big/six.bin' },
        { name: 'process', value: '0' },
        { name: 'file', value: new Blob([content]) },
      ]),
    );
    expect(answer.status, JSON.stringify(answer.body)).to.equal(201);
    expect(answer.body.upload.size).to.equal(6 * MiB); // exactly UPLOAD_MAX_BYTES is allowed
    const object = await svc.service.s3.send(new GetObjectCommand({ Bucket: 'ingest', Key: 'big/six.bin' }));
    const stored = Buffer.from(await object.Body!.transformToByteArray());
    expect(createHash('sha256').update(stored).digest('hex')).to.equal(
      createHash('sha256').update(content).digest('hex'),
    );
  });

  it('should answer a file over UPLOAD_MAX_BYTES with 413, abort the multipart upload and store nothing', async () => {
    const answer = await upload(
      form([
        { name: 'key', value: 'big/too-big.bin' },
        { name: 'file', value: new Blob([bytes(6 * MiB + 1)]) },
      ]),
    );
    expect(answer.status).to.equal(413);
    expect(answer.body.error.code).to.equal('payload_too_large');
    expect(await exists('big/too-big.bin')).to.equal(false);
    expect(await unfinishedUploads()).to.deep.equal([]);
  });

  it('should answer a body that is not multipart with 415', async () => {
    const answer = await upload(JSON.stringify({ key: 'a.csv' }), { 'content-type': 'application/json' });
    expect(answer.status).to.equal(415);
    expect(answer.body.error.code).to.equal('unsupported_media_type');
  });

  it('should answer a form without a file part with 400', async () => {
    const answer = await upload(form([{ name: 'key', value: 'nofile.csv' }]));
    expect(answer.status).to.equal(400);
    expect(answer.body.error.message).to.match(/no file part/);
  });

  for (const [label, key, pattern] of [
    ['a .. segment', 'a/../b.csv', /segment 2 is "\.\."/],
    ['a . segment', 'a/./b.csv', /segment 2 is "\."/],
    ['a . segment before OUTPUT_PREFIX', './processed/x.csv', /segment 1 is "\."/],
    ['an empty segment', 'a//b.csv', /segment 2 is empty/],
    ['a leading /', '/abs.csv', /starts with "\/"/],
    ['a NUL', 'a\u0000b.csv', /control character U\+0000/],
    // FormData sends a newline in a field as CRLF.
    ['a newline', 'a\nb.csv', /"a\\r\\nb\.csv" is not valid: it contains the control character U\+000D/],
    ['a C1 control character', 'a\u0085b.csv', /control character U\+0085/],
    ['over 1024 bytes', 'é'.repeat(513), /1026 bytes of UTF-8; a key is at most 1024/],
    ['a key under OUTPUT_PREFIX', 'processed/x.csv', /under OUTPUT_PREFIX \("processed\/"\)/],
    ['an empty key', '', /it is empty/],
  ] as const) {
    it(`should answer a key field with ${label} with 400 invalid_key and store nothing`, async () => {
      const answer = await upload(
        form([
          { name: 'key', value: key },
          { name: 'file', value: new Blob(['x\n']), filename: 'reject-me.csv' },
        ]),
      );
      expect(answer.status, JSON.stringify(answer.body)).to.equal(400);
      expect(answer.body.error.code).to.equal('invalid_key');
      expect(answer.body.error.message).to.match(pattern);
      expect(answer.body.error.message).to.match(/^The key ".*" is not valid: /);
      const stored = await Promise.all(['x.csv', 'processed/x.csv', 'b.csv', 'a/b.csv'].map(exists));
      expect(stored).to.deep.equal([false, false, false, false]);
    });
  }

  for (const [label, parts, pattern] of [
    ['a bad process value', [{ name: 'process', value: 'maybe' }], /process/],
    ['an unknown field', [{ name: 'bucket', value: 'other' }], /Unknown field "bucket"/],
    ['a file part with another name', [], /named "file"/],
  ] as const) {
    it(`should answer ${label} with 400 and store nothing`, async () => {
      const fileName = label === 'a file part with another name' ? 'data' : 'file';
      const answer = await upload(
        form([...parts, { name: fileName, value: new Blob(['x\n']), filename: 'reject-me.csv' }]),
      );
      expect(answer.status, JSON.stringify(answer.body)).to.equal(400);
      expect(answer.body.error.code).to.equal('validation_failed');
      expect(answer.body.error.message).to.match(pattern);
    });
  }

  it('should answer a field after the file with 400 and remove what was stored', async () => {
    const answer = await upload(
      form([
        { name: 'file', value: new Blob(['x\n']) },
        { name: 'key', value: 'late/field.csv' },
      ]),
    );
    expect(answer.status).to.equal(400);
    expect(answer.body.error.message).to.match(/came after the file part/);
    const listed = await svc.service.s3.send(new ListObjectsV2Command({ Bucket: 'ingest', Prefix: 'uploads/' }));
    const keys = (listed.Contents ?? []).map((object) => object.Key);
    expect(keys.filter((key) => key?.endsWith('-file.csv'))).to.deep.equal([]);
  });

  it('should answer two file parts with 400', async () => {
    const data = form([
      { name: 'key', value: 'two/files.csv' },
      { name: 'file', value: new Blob(['a\n']) },
      { name: 'file', value: new Blob(['b\n']) },
    ]);
    const answer = await upload(data);
    expect(answer.status).to.equal(400);
    expect(await exists('two/files.csv')).to.equal(false);
  });

  it('should abort the multipart upload and store nothing when the client disconnects mid-body', async () => {
    const boundary = 'spec-boundary-0123456789';
    const url = new URL(svc.url);
    const socket = net.connect(Number(url.port), url.hostname);
    await once(socket, 'connect');
    socket.write(
      `POST /v1/uploads HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${100 * MiB}\r\n\r\n`,
    );
    socket.write(`--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\nabort/gone.bin\r\n`);
    socket.write(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="gone.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );
    for (let i = 0; i < 11; i += 1) {
      if (!socket.write(bytes(MiB / 2, i))) await once(socket, 'drain');
    }
    await until(async () => (await unfinishedUploads()).length > 0, 'the multipart upload to start');
    socket.destroy();
    await until(async () => (await unfinishedUploads()).length === 0, 'the multipart upload to be aborted');
    expect(await exists('abort/gone.bin')).to.equal(false);
  });
});

/**
 * An upload over a raw socket: the head, the key field, the file part's head and `bytes` of the file; the rest is up to
 * the caller.
 */
async function openUpload(
  svc: TestService,
  key: string,
  bytes: number,
): Promise<{ socket: net.Socket; answer: Promise<string> }> {
  const boundary = 'limits-boundary-0123456789';
  const url = new URL(svc.url);
  const socket = net.connect(Number(url.port), url.hostname);
  socket.on('error', () => undefined); // writes after the server closed the connection
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const answer = once(socket, 'close').then(() => text);
  await once(socket, 'connect');
  socket.write(
    `POST /v1/uploads HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${100 * MiB}\r\n\r\n`,
  );
  if (bytes > 0) {
    socket.write(`--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\n${key}\r\n`);
    socket.write(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );
    for (let sent = 0; sent < bytes; sent += MiB / 2) {
      if (!socket.write(Buffer.alloc(Math.min(MiB / 2, bytes - sent), 'x'))) await once(socket, 'drain');
    }
  }
  return { socket, answer };
}

describe('POST /v1/uploads (limits)', () => {
  let svc: TestService;
  const unfinishedUploads = async () =>
    readdir(path.join(svc.dataDir, 's3', 'ingest', '._S3rver_uploads')).catch(() => []);
  const exists = async (key: string) =>
    svc.service.s3.send(new HeadObjectCommand({ Bucket: 'ingest', Key: key })).then(
      () => true,
      () => false,
    );

  afterEach(async () => svc.stop());

  it('should answer an upload past UPLOAD_CONCURRENCY with 503 server_busy and Retry-After before reading its body, and take uploads again once one ends', async function () {
    this.timeout(30_000);
    svc = await startTestService({
      env: { UPLOAD_CONCURRENCY: '2', S3_PART_SIZE: String(5 * MiB), S3_QUEUE_SIZE: '1' },
    });
    const streaming = [await openUpload(svc, 'busy/1.bin', 6 * MiB), await openUpload(svc, 'busy/2.bin', 6 * MiB)];
    await until(async () => (await unfinishedUploads()).length === 2, 'both uploads to stream into S3');
    // Only the head is sent: the answer cannot wait for the body.
    const third = await openUpload(svc, 'busy/3.bin', 0);
    const answer = await third.answer;
    expect(answer).to.match(/^HTTP\/1\.1 503 /);
    expect(answer).to.match(/^retry-after: 5\r$/im);
    expect(answer).to.contain('"code":"server_busy"');
    expect(await exists('busy/3.bin')).to.equal(false);

    streaming[0]!.socket.destroy();
    await until(async () => (await unfinishedUploads()).length === 1, 'the first upload to be aborted');
    const data = new FormData();
    data.append('key', 'busy/4.csv');
    data.append('file', new Blob(['a\n1\n']), 'four.csv');
    const fourth = await svc.fetch('/v1/uploads', { method: 'POST', body: data });
    expect(fourth.status, await fourth.clone().text()).to.equal(201);
    streaming[1]!.socket.destroy();
    await until(async () => (await unfinishedUploads()).length === 0, 'the second upload to be aborted');
  });

  it('should cut an upload still trickling after UPLOAD_TIMEOUT_MS: 408 upload_timeout, no object, no unfinished multipart upload', async function () {
    this.timeout(30_000);
    svc = await startTestService({
      env: { UPLOAD_TIMEOUT_MS: '3000', S3_PART_SIZE: String(5 * MiB), S3_QUEUE_SIZE: '1' },
    });
    const started = performance.now();
    const { socket, answer } = await openUpload(svc, 'slow/trickle.bin', 6 * MiB);
    await until(async () => (await unfinishedUploads()).length === 1, 'the multipart upload to start', 3000);
    // Never idle (a byte every 100 ms), never done.
    const trickle = setInterval(() => socket.write('x'), 100);
    try {
      const text = await answer;
      const seconds = (performance.now() - started) / 1000;
      expect(text).to.match(/^HTTP\/1\.1 408 /);
      expect(text).to.contain('"code":"upload_timeout"');
      expect(seconds).to.be.within(2.9, 6);
    } finally {
      clearInterval(trickle);
    }
    expect(await unfinishedUploads()).to.deep.equal([]);
    expect(await exists('slow/trickle.bin')).to.equal(false);
  });

  it('should refuse uploads with 403 bucket_not_allowed when INPUT_BUCKET is not in ALLOWED_BUCKETS', async () => {
    svc = await startTestService({ env: { INPUT_BUCKET: 'ingest', ALLOWED_BUCKETS: 'other' } });
    const data = new FormData();
    data.append('key', 'refused/a.csv');
    data.append('file', new Blob(['a\n1\n']), 'a.csv');
    const response = await svc.fetch('/v1/uploads', { method: 'POST', body: data });
    expect(response.status).to.equal(403);
    expect(((await response.json()) as { error: { code: string } }).error.code).to.equal('bucket_not_allowed');
    expect(await exists('refused/a.csv')).to.equal(false);
  });
});
