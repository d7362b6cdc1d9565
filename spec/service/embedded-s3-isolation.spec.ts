import { PutObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createS3Client } from '../../src/storage/create-s3-client.ts';
import { EMBEDDED_S3_CREDENTIALS } from '../../src/storage/embedded-s3.ts';
import { startServiceProcess, type Child } from '../helpers/child-process.ts';
import { DICER_CRASH, send, sendSigned } from '../helpers/raw-s3-request.ts';

/** The processes whose parent is `pid`. */
async function childrenOf(pid: number): Promise<number[]> {
  const { stdout } = await promisify(execFile)('ps', ['-o', 'pid=', '--ppid', String(pid)]).catch(() => ({
    stdout: '',
  }));
  return stdout
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((child) => child > 0);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) expect.fail(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('npm start with the embedded S3 server, under hostile S3 requests', function () {
  this.timeout(120_000);
  let dir: string;
  let service: Child & { url: string };
  let endpoint: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'embedded-isolation-'));
    service = await startServiceProcess({ DATA_DIR: dir, JOB_CONCURRENCY: '1' });
    endpoint = String(service.lines().find((line) => line['message'] === 'embedded S3 server started')?.['endpoint']);
  });
  after(async () => {
    await service.kill();
    await rm(dir, { recursive: true, force: true });
  });

  async function healthy(): Promise<void> {
    expect((await fetch(`${service.url}/healthz`)).status).to.equal(200);
    expect(service.process.exitCode).to.equal(null);
  }

  it("should answer each request that killed the service with S3's error, and keep serving", async () => {
    const name = `escape-${Date.now()}`;
    const hostile: [
      method: string,
      rawPath: string,
      headers: Record<string, string>,
      body: string,
      status: number,
      code: string,
    ][] = [
      ['PUT', `/ingest/${'x'.repeat(241)}`, {}, 'x', 400, 'KeyTooLongError'],
      ['PUT', '/ingest/x._S3rver_object/y', {}, 'y', 400, 'InvalidArgument'],
      ['PUT', `/ingest/../../../..${os.tmpdir()}/${name}`, {}, 'x', 400, 'InvalidArgument'],
      ['POST', '/ingest', DICER_CRASH.headers, DICER_CRASH.body, 405, 'MethodNotAllowed'],
    ];
    for (const [method, rawPath, headers, body, status, code] of hostile) {
      expect(
        await send(endpoint, method, rawPath, headers, body),
        `unsigned ${method} ${rawPath.slice(0, 40)}`,
      ).to.include({ status: 403, code: 'AccessDenied' });
      expect(
        await sendSigned(endpoint, method, rawPath, headers, body),
        `${method} ${rawPath.slice(0, 40)}`,
      ).to.include({ status, code });
      await healthy();
    }
    expect(await sendSigned(endpoint, 'PUT', '/ingest/x', {}, 'x')).to.include({ status: 200 });
  });

  it('should start the S3 server again when its process is killed, log a warning, and stop it with the service', async () => {
    const [s3Pid] = await childrenOf(service.process.pid!);
    expect(s3Pid, "the embedded S3 server's process").to.be.a('number');
    process.kill(s3Pid!, 'SIGKILL');
    await service.waitForLine(
      (line) => line['level'] === 'warn' && line['signal'] === 'SIGKILL' && line['restarts'] === 1,
    );
    const client = createS3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      checksums: 'WHEN_REQUIRED',
      credentials: EMBEDDED_S3_CREDENTIALS,
    });
    try {
      await eventually(() =>
        client.send(new PutObjectCommand({ Bucket: 'ingest', Key: 'notes/after-restart.txt', Body: 'back' })),
      );
    } finally {
      client.destroy();
    }
    await healthy();
    const [restarted] = await childrenOf(service.process.pid!);
    expect(restarted).to.be.a('number').and.not.equal(s3Pid);

    await service.kill();
    await eventually(async () => (alive(restarted!) ? undefined : true));
  });
});
