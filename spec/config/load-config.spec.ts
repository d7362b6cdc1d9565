import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load-config.ts';

function failure(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).to.have.property('code', 'config_invalid');
    return (error as Error).message;
  }
  throw new Error('loadConfig accepted a bad environment');
}

describe('loadConfig', () => {
  it('should apply the contract defaults', () => {
    const config = loadConfig({});
    expect(config.http).to.include({ port: 8080, host: '127.0.0.1', apiToken: undefined, allowUnauthenticated: false });
    expect(config.buckets).to.deep.equal({
      input: 'ingest',
      output: 'ingest',
      outputPrefix: 'processed/',
      allowed: ['ingest'],
    });
    expect(config.jobs).to.include({
      queueCapacity: 1000,
      maxAttempts: 3,
      retryBaseMs: 1000,
      retryMaxMs: 30000,
      retentionDays: 30,
    });
    expect(config.jobs.concurrency).to.be.at.least(1);
    expect(config.s3).to.include({
      endpoint: undefined,
      embeddedPort: 4568,
      partSize: 8388608,
      queueSize: 4,
      checksums: 'WHEN_REQUIRED',
    });
    expect(config.uploads).to.deep.equal({ maxBytes: 5368709120, concurrency: 16, timeoutMs: 3600000 });
    expect(config.http.sseMaxClients).to.equal(100);
    expect(config.http.retryAfterSeconds).to.equal(5);
    expect(config.http.snsTopicArns).to.equal(undefined);
    expect(config.s3.sse).to.equal(undefined);
    expect(config.csvMaxRecordBytes).to.equal(1048576);
    expect(config.log).to.deep.equal({ level: 'info', format: 'json' });
    expect(config.databaseUrl).to.equal(undefined);
    expect(config.instanceId).to.equal(`${os.hostname()}-${process.pid}`);
    expect(config.jobs.leaseMs).to.equal(30000);
  });

  it('should read the shared job store, the instance name and the lease', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://svc:pw@db:5432/ingest',
      S3_ENDPOINT: 'http://minio:9000',
      INSTANCE_ID: 'eu-1a',
      JOB_LEASE_MS: '3000',
    });
    expect(config).to.include({ databaseUrl: 'postgres://svc:pw@db:5432/ingest', instanceId: 'eu-1a' });
    expect(config.jobs.leaseMs).to.equal(3000);
    expect(loadConfig({ DATABASE_URL: '' }).databaseUrl, 'blank is unset').to.equal(undefined);
  });

  it('should refuse DATABASE_URL without S3_ENDPOINT, naming both', () => {
    const message = failure({ DATABASE_URL: 'postgres://db/ingest' });
    expect(message).to.match(/DATABASE_URL: .*set S3_ENDPOINT/);
  });

  it('should return a frozen config', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).to.equal(true);
    expect(Object.isFrozen(config.jobs)).to.equal(true);
  });

  it('should name the variable and what was expected for a bad value', () => {
    expect(failure({ PORT: 'eighty' })).to.match(/PORT: expected a whole number/);
    expect(failure({ JOB_CONCURRENCY: '0' })).to.match(/JOB_CONCURRENCY: must be at least 1/);
    expect(failure({ S3_PART_SIZE: '1000' })).to.match(/S3_PART_SIZE: must be at least 5242880/);
    expect(failure({ QUEUE_CAPACITY: '-5' })).to.match(/QUEUE_CAPACITY: must be at least 1/);
    expect(failure({ RETRY_AFTER_SECONDS: '0' })).to.match(/RETRY_AFTER_SECONDS: must be at least 1/);
    expect(loadConfig({ RETRY_AFTER_SECONDS: '30' }).http.retryAfterSeconds).to.equal(30);
    expect(failure({ EMBEDDED_S3_PORT: '99999' })).to.match(/EMBEDDED_S3_PORT: must be at most 65535/);
    expect(failure({ PORT: '80.5' })).to.match(/PORT: expected a whole number/);
    expect(failure({ S3_ENDPOINT: 'not a url' })).to.match(/S3_ENDPOINT: expected a URL/);
    expect(failure({ ALLOW_UNAUTHENTICATED: 'maybe' })).to.match(/ALLOW_UNAUTHENTICATED: expected true or false/);
    expect(failure({ INPUT_BUCKET: 'Bad_Bucket' })).to.match(/INPUT_BUCKET/);
    expect(failure({ RETRY_BASE_MS: '5000', RETRY_MAX_MS: '100' })).to.match(
      /RETRY_MAX_MS: must be at least RETRY_BASE_MS/,
    );
    expect(failure({ S3_PART_SIZE: '1024' })).to.match(/S3_PART_SIZE/);
    expect(failure({ ALLOWED_BUCKETS: 'ingest,Not_A_Bucket' })).to.match(/ALLOWED_BUCKETS/);
    expect(failure({ SNS_TOPIC_ARNS: 'my-topic' })).to.match(/SNS_TOPIC_ARNS\.0: expected SNS topic ARNs/);
    expect(
      failure({ UPLOAD_MAX_BYTES: String(10_001 * 5 * 1024 * 1024), S3_PART_SIZE: String(5 * 1024 * 1024) }),
    ).to.match(/UPLOAD_MAX_BYTES: needs more than 10,000 parts of S3_PART_SIZE/);
    expect(
      loadConfig({ UPLOAD_MAX_BYTES: String(10_000 * 5 * 1024 * 1024), S3_PART_SIZE: String(5 * 1024 * 1024) }).uploads
        .maxBytes,
    ).to.equal(10_000 * 5 * 1024 * 1024);
    expect(failure({ S3_SSE: 'des' })).to.match(/S3_SSE: expected AES256 or aws:kms/);
    expect(failure({ S3_SSE_KMS_KEY_ID: 'key-1' })).to.match(/S3_SSE_KMS_KEY_ID: a KMS key needs S3_SSE=aws:kms/);
    expect(failure({ DATABASE_URL: 'mysql://db/ingest', S3_ENDPOINT: 'http://minio:9000' })).to.match(
      /DATABASE_URL: expected a postgres:\/\/… URL/,
    );
    expect(failure({ JOB_LEASE_MS: '10' })).to.match(/JOB_LEASE_MS: must be at least 1000/);
    expect(failure({ INSTANCE_ID: 'two words' })).to.match(/INSTANCE_ID: expected 1 to 128 printable characters/);
  });

  it('should read comma-separated lists and server-side encryption', () => {
    const config = loadConfig({
      ALLOWED_BUCKETS: ' ingest , archive ',
      SNS_TOPIC_ARNS: 'arn:aws:sns:eu-west-1:123456789012:uploads',
      S3_SSE: 'aws:kms',
      S3_SSE_KMS_KEY_ID: 'alias/ingest',
    });
    expect(config.buckets.allowed).to.deep.equal(['ingest', 'archive']);
    expect(config.http.snsTopicArns).to.deep.equal(['arn:aws:sns:eu-west-1:123456789012:uploads']);
    expect(config.s3.sse).to.deep.equal({ algorithm: 'aws:kms', kmsKeyId: 'alias/ingest' });
  });

  it('should refuse a non-loopback HOST without API_TOKEN', () => {
    expect(failure({ HOST: '0.0.0.0' })).to.match(/HOST: 0\.0\.0\.0 is not a loopback address; set API_TOKEN/);
    expect(loadConfig({ HOST: '0.0.0.0', API_TOKEN: 't' }).http.host).to.equal('0.0.0.0');
    expect(loadConfig({ HOST: '0.0.0.0', ALLOW_UNAUTHENTICATED: 'true' }).http.allowUnauthenticated).to.equal(true);
    expect(loadConfig({ HOST: '::1' }).http.host).to.equal('::1');
  });

  it('should default OUTPUT_BUCKET to INPUT_BUCKET and checksums to WHEN_SUPPORTED on AWS', () => {
    const config = loadConfig({ INPUT_BUCKET: 'raw-data', S3_ENDPOINT: 'https://s3.eu-west-1.amazonaws.com' });
    expect(config.buckets.output).to.equal('raw-data');
    expect(config.s3.checksums).to.equal('WHEN_SUPPORTED');
  });

  it('should stop npm start with exit code 1 and a message naming the variable', function () {
    this.timeout(30_000);
    const root = path.resolve(import.meta.dirname, '../..');
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: root,
      env: { ...process.env, PORT: 'eighty', QUEUE_CAPACITY: '-1' },
      encoding: 'utf8',
      timeout: 25_000,
    });
    expect(result.status).to.equal(1);
    expect(result.stderr).to.match(/PORT: expected a whole number/);
    expect(result.stderr).to.match(/QUEUE_CAPACITY/);
  });
});
