import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { startTestService, type TestService } from '../helpers/test-service.ts';

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
    svc = await startTestService({ env: { UPLOAD_MAX_BYTES: String(6 * MiB), S3_PART_SIZE: String(5 * MiB), S3_QUEUE_SIZE: '2' } });
  });
  after(async () => svc.stop());

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const upload = async (body: FormData | string, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> => {
    const response = await svc.fetch('/v1/uploads', { method: 'POST', body, headers });
    return { status: response.status, body: await response.json(), headers: response.headers };
  };
  /** Unfinished multipart uploads s3rver keeps on disk. */
  const unfinishedUploads = async () => readdir(path.join(svc.dataDir, 's3', 'ingest', '._S3rver_uploads')).catch(() => []);
  const exists = async (key: string) => svc.service.s3.send(new HeadObjectCommand({ Bucket: 'ingest', Key: key })).then(() => true, () => false);

  it('should store the file under a default dated key, answer 201 and queue a job (trigger upload, no HEAD needed)', async () => {
    const content = 'id,name\n1,Ada\n2,Grace\n';
    const answer = await upload(form([{ name: 'file', value: new Blob([content], { type: 'text/csv' }), filename: 'My Data (1).csv' }]));
    expect(answer.status, JSON.stringify(answer.body)).to.equal(201);
    const today = new Date().toISOString().slice(0, 10).replace(/-/g, '/');
    expect(answer.body.upload.key).to.match(new RegExp(`^uploads/${today}/[0-9a-f-]{36}-My-Data-1-\\.csv$`));
    expect(answer.body.upload).to.include({ bucket: 'ingest', size: content.length });
    const head = await svc.service.s3.send(new HeadObjectCommand({ Bucket: 'ingest', Key: answer.body.upload.key }));
    expect(answer.body.upload.etag).to.equal(head.ETag);
    expect(head.ContentType).to.equal('text/csv');
    expect(answer.body.job).to.include({ trigger: 'upload', status: 'queued' });
    expect(answer.body.job.source).to.deep.equal({ bucket: 'ingest', key: answer.body.upload.key, versionId: null, etag: head.ETag, size: content.length });
  });

  it('should take the key and process fields before the file; process=false stores without a job', async () => {
    const answer = await upload(form([{ name: 'key', value: 'manual/ünï côdé.csv' }, { name: 'process', value: 'false' }, { name: 'file', value: new Blob(['a\n1\n']) }]));
    expect(answer.status, JSON.stringify(answer.body)).to.equal(201);
    expect(answer.body.upload.key).to.equal('manual/ünï côdé.csv');
    expect(answer.body.job).to.equal(null);
    expect(await exists('manual/ünï côdé.csv')).to.equal(true);
  });

  it('should stream a file larger than a part as a multipart upload, byte for byte', async () => {
    const content = bytes(6 * MiB, 7);
    const answer = await upload(form([{ name: 'key', value: 'big/six.bin' }, { name: 'process', value: '0' }, { name: 'file', value: new Blob([content]) }]));
    expect(answer.status, JSON.stringify(answer.body)).to.equal(201);
    expect(answer.body.upload.size).to.equal(6 * MiB); // exactly UPLOAD_MAX_BYTES is allowed
    const object = await svc.service.s3.send(new GetObjectCommand({ Bucket: 'ingest', Key: 'big/six.bin' }));
    const stored = Buffer.from(await object.Body!.transformToByteArray());
    expect(createHash('sha256').update(stored).digest('hex')).to.equal(createHash('sha256').update(content).digest('hex'));
  });

  it('should answer a file over UPLOAD_MAX_BYTES with 413, abort the multipart upload and store nothing', async () => {
    const answer = await upload(form([{ name: 'key', value: 'big/too-big.bin' }, { name: 'file', value: new Blob([bytes(6 * MiB + 1)]) }]));
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

  for (const [label, parts, pattern] of [
    ['a key with a .. segment', [{ name: 'key', value: 'a/../b.csv' }], /\.\. segment/],
    ['a key with a leading /', [{ name: 'key', value: '/abs.csv' }], /start with \//],
    ['a key with a control character', [{ name: 'key', value: 'a\u0001b.csv' }], /control/],
    ['a key over 1024 bytes', [{ name: 'key', value: 'é'.repeat(513) }], /1024/],
    ['a key under OUTPUT_PREFIX', [{ name: 'key', value: 'processed/x.csv' }], /outputs/],
    ['a bad process value', [{ name: 'process', value: 'maybe' }], /process/],
    ['an unknown field', [{ name: 'bucket', value: 'other' }], /Unknown field "bucket"/],
    ['a file part with another name', [], /named "file"/],
  ] as const) {
    it(`should answer ${label} with 400 and store nothing`, async () => {
      const fileName = label === 'a file part with another name' ? 'data' : 'file';
      const answer = await upload(form([...parts, { name: fileName, value: new Blob(['x\n']), filename: 'reject-me.csv' }]));
      expect(answer.status, JSON.stringify(answer.body)).to.equal(400);
      expect(answer.body.error.code).to.equal('validation_failed');
      expect(answer.body.error.message).to.match(pattern);
    });
  }

  it('should answer a field after the file with 400 and remove what was stored', async () => {
    const answer = await upload(form([{ name: 'file', value: new Blob(['x\n']) }, { name: 'key', value: 'late/field.csv' }]));
    expect(answer.status).to.equal(400);
    expect(answer.body.error.message).to.match(/came after the file part/);
    const listed = await svc.service.s3.send(new ListObjectsV2Command({ Bucket: 'ingest', Prefix: 'uploads/' }));
    const keys = (listed.Contents ?? []).map((object) => object.Key);
    expect(keys.filter((key) => key?.endsWith('-file.csv'))).to.deep.equal([]);
  });

  it('should answer two file parts with 400', async () => {
    const data = form([{ name: 'key', value: 'two/files.csv' }, { name: 'file', value: new Blob(['a\n']) }, { name: 'file', value: new Blob(['b\n']) }]);
    const answer = await upload(data);
    expect(answer.status).to.equal(400);
    expect(await exists('two/files.csv')).to.equal(false);
  });

  it('should abort the multipart upload and store nothing when the client disconnects mid-body', async () => {
    const boundary = 'spec-boundary-0123456789';
    const url = new URL(svc.url);
    const socket = net.connect(Number(url.port), url.hostname);
    await once(socket, 'connect');
    socket.write(`POST /v1/uploads HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${100 * MiB}\r\n\r\n`);
    socket.write(`--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\nabort/gone.bin\r\n`);
    socket.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="gone.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`);
    for (let i = 0; i < 11; i += 1) {
      if (!socket.write(bytes(MiB / 2, i))) await once(socket, 'drain');
    }
    await until(async () => (await unfinishedUploads()).length > 0, 'the multipart upload to start');
    socket.destroy();
    await until(async () => (await unfinishedUploads()).length === 0, 'the multipart upload to be aborted');
    expect(await exists('abort/gone.bin')).to.equal(false);
  });
});
