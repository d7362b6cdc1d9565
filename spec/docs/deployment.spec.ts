import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { envSchema } from '../../src/config/config-schema.ts';
import { readTrigger } from '../../src/http/triggers/read-trigger.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFile(path.join(ROOT, file), 'utf8');
// MALLOC_MMAP_THRESHOLD_ and MALLOC_ARENA_MAX are glibc's, set in the image for memory (docs/memory-and-speed.md).
const known = new Set([
  ...Object.keys(envSchema.shape),
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'NODE_ENV',
  'MALLOC_MMAP_THRESHOLD_',
  'MALLOC_ARENA_MAX',
]);

describe('deployment files', () => {
  it('should build a non-root, multi-stage image with a health check, a port and a data volume', async () => {
    const dockerfile = await read('Dockerfile');
    expect(dockerfile.match(/^FROM /gm)?.length).to.be.at.least(3);
    expect(dockerfile).to.match(/npm ci --omit=dev/);
    expect(dockerfile).to.match(/^USER node$/m);
    expect(dockerfile).to.match(/^HEALTHCHECK [\s\S]*\/healthz/m);
    expect(dockerfile).to.match(/^EXPOSE 8080$/m);
    expect(dockerfile).to.match(/DATA_DIR=\/data/);
    expect(dockerfile).to.match(/^VOLUME \["\/data"\]$/m);
    expect(dockerfile).to.match(/^CMD \["node", "--max-semi-space-size=1", "--expose-gc", "dist\/main.js"\]$/m);
    for (const [, name] of dockerfile.matchAll(/^\s+([A-Z][A-Z0-9_]+)=/gm))
      expect(known, `Dockerfile ENV ${name}`).to.include(name);
  });

  it('should keep what the image build needs out of .dockerignore, and the rest in it', async () => {
    const ignored = (await read('.dockerignore'))
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    for (const needed of ['src', 'public', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'])
      expect(ignored).not.to.include(needed);
    for (const kept of ['node_modules', '.git', 'data', 'dist', 'spec']) expect(ignored).to.include(kept);
  });

  it('should give the compose service only variables the configuration knows', async () => {
    const compose = await read('compose.yaml');
    const service = compose.slice(compose.indexOf('\n  ingest:\n'), compose.indexOf('\nvolumes:\n'));
    const names = [...service.matchAll(/^ {6}([A-Z][A-Z0-9_]+):/gm)].map((match) => match[1]);
    expect(names).to.include.members(['API_TOKEN', 'S3_ENDPOINT', 'INPUT_BUCKET', 'OUTPUT_BUCKET']);
    for (const name of names) expect(known, `compose variable ${name}`).to.include(name);
    expect(compose).to.include('MINIO_NOTIFY_WEBHOOK_ENDPOINT_INGEST: http://ingest:8080/v1/trigger');
  });

  it('should run two replicas of the service on one PostgreSQL, each reachable on its own port', async () => {
    const compose = await read('compose.yaml');
    const service = compose.slice(compose.indexOf('\n  ingest:\n'), compose.indexOf('\nvolumes:\n'));
    expect(compose).to.match(/^ {2}postgres:\n {4}image: postgres:\d+/m);
    expect(service).to.match(/^ {6}replicas: 2$/m);
    expect(service).to.match(/^ {6}DATABASE_URL: postgres:\/\/\S+@postgres:5432\/ingest$/m);
    expect(service).to.match(/^ {6}S3_ENDPOINT: http:\/\/minio:9000$/m);
    expect(service).to.include("'127.0.0.1:8080-8081:8080'");
    // A replica's data volume would be shared by both; with PostgreSQL and MinIO they keep nothing of their own.
    expect(service).not.to.match(/^ {4}volumes:/m);
  });

  it('should accept the body a MinIO webhook sends as an S3 event notification', () => {
    // As MinIO posts it: S3's Records plus its own EventName and Key; the key form-URL-encoded.
    const body = {
      EventName: 's3:ObjectCreated:Put',
      Key: 'ingest/iot/2024 02 12.csv',
      Records: [
        {
          eventVersion: '2.0',
          eventSource: 'minio:s3',
          awsRegion: '',
          eventTime: '2024-06-05T10:00:00.000Z',
          eventName: 's3:ObjectCreated:Put',
          userIdentity: { principalId: 'minioadmin' },
          requestParameters: {},
          responseElements: {},
          s3: {
            s3SchemaVersion: '1.0',
            configurationId: 'Config',
            bucket: { name: 'ingest', ownerIdentity: { principalId: 'minioadmin' }, arn: 'arn:aws:s3:::ingest' },
            object: {
              key: 'iot%2F2024+02+12.csv',
              size: 1234,
              eTag: 'd41d8cd98f00b204e9800998ecf8427e',
              contentType: 'text/csv',
              sequencer: '17D5C1B2A3',
            },
          },
          source: { host: '172.18.0.4', port: '', userAgent: 'MinIO (linux; amd64) minio-go/v7.0.70' },
        },
      ],
    };
    const read = readTrigger(body, { inputBucket: 'ingest', snsMessageType: undefined });
    expect(read).to.deep.include({ kind: 'jobs', trigger: 's3-event' });
    expect(read.kind === 'jobs' && read.requests).to.deep.equal([
      {
        bucket: 'ingest',
        key: 'iot/2024 02 12.csv',
        size: 1234,
        etag: '"d41d8cd98f00b204e9800998ecf8427e"',
        versionId: undefined,
      },
    ]);
  });

  it('should compile to a dist/ that runs as the image runs it: node dist/main.js, dashboard found, CSV job in a worker', async function () {
    this.timeout(120_000);
    // The image's /app: package.json, node_modules, dist/ (tsconfig.build.json), public/.
    const app = await mkdtemp(path.join(os.tmpdir(), 's3-csv-ingest-image-'));
    try {
      await promisify(execFile)(process.execPath, [
        path.join(ROOT, 'node_modules/typescript/bin/tsc'),
        '-p',
        path.join(ROOT, 'tsconfig.build.json'),
        '--outDir',
        path.join(app, 'dist'),
      ]);
      await cp(path.join(ROOT, 'public'), path.join(app, 'public'), { recursive: true });
      await cp(path.join(ROOT, 'package.json'), path.join(app, 'package.json'));
      await symlink(path.join(ROOT, 'node_modules'), path.join(app, 'node_modules'));
      const child = spawn(process.execPath, ['--max-semi-space-size=1', '--expose-gc', 'dist/main.js'], {
        cwd: app,
        env: {
          PATH: process.env['PATH'] ?? '',
          NODE_ENV: 'production',
          PORT: '0',
          EMBEDDED_S3_PORT: '0',
          JOB_CONCURRENCY: '1',
          DATA_DIR: path.join(app, 'data'),
          LOG_FORMAT: 'json',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /"url":"(http:[^"]+)"/.exec(out);
          if (match) resolve(match[1]!);
        });
        void exited.then((code) => reject(new Error(`node dist/main.js exited with ${code}: ${out}`)));
      });
      expect((await fetch(`${url}/healthz`)).status).to.equal(200);
      const page = await fetch(`${url}/`);
      expect(page.status).to.equal(200);
      expect(await page.text()).to.include('<title>s3-csv-ingest</title>');
      expect((await fetch(`${url}/metrics`)).status).to.equal(200);
      const form = new FormData();
      form.set('key', 'image/check.csv');
      form.set('file', new Blob(['a,b\n1,2\n']), 'check.csv');
      const uploaded = await fetch(`${url}/v1/uploads`, { method: 'POST', body: form });
      expect(uploaded.status).to.equal(201);
      const { job } = (await uploaded.json()) as { job: { id: string } };
      let status = 'queued';
      for (let tries = 0; tries < 200 && (status === 'queued' || status === 'running'); tries += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        status = ((await (await fetch(`${url}/v1/jobs/${job.id}`)).json()) as { status: string }).status;
      }
      expect(status).to.equal('succeeded');
      expect(await (await fetch(`${url}/v1/jobs/${job.id}/outputs/rows`)).text()).to.equal('{"a":"1","b":"2"}\n');
      child.kill('SIGTERM');
      expect(await exited).to.equal(0);
    } finally {
      await rm(app, { recursive: true, force: true });
    }
  });
});
