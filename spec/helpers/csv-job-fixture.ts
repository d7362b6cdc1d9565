import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { createPipelineRegistry } from '../../src/csv/create-pipeline-registry.ts';
import { parsePipelines } from '../../src/csv/parse-pipelines.ts';
import type { Job } from '../../src/jobs/job.ts';
import type { CsvJobDeps } from '../../src/jobs/run-csv-job.ts';

/** The bucket the CSV job specs read from and write to. */
export const BUCKET = 'ingest';
export const PREFIX = 'processed/';
/** Where the outputs of the bucket's objects go: OUTPUT_PREFIX + bucket + "/". */
export const OUTPUT_BASE = `${PREFIX}${BUCKET}/`;
const MIB = 1024 * 1024;

/** Puts an object into the test server. */
export async function putObject(
  client: S3Client,
  key: string,
  body: string | Buffer,
  extra: Partial<PutObjectCommandInput> = {},
): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: Buffer.from(body), ...extra }));
}

/** An object's text, or undefined when it does not exist. */
export async function readText(client: S3Client, key: string): Promise<string | undefined> {
  try {
    const response = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return await response.Body?.transformToString('utf8');
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

/** NDJSON text as values. */
export function parseLines(text: string | undefined): unknown[] {
  return (text ?? '')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as unknown);
}

/** Keys under a prefix. */
export async function listKeys(client: S3Client, prefix: string): Promise<string[]> {
  const response = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (response.Contents ?? []).map((object) => object.Key ?? '').sort();
}

/** Unfinished multipart uploads the embedded server keeps on disk (empty or absent when there are none). */
export async function unfinishedUploads(directory: string): Promise<string[]> {
  try {
    return await readdir(path.join(directory, BUCKET, '._S3rver_uploads'));
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return [];
    throw error;
  }
}

/** A queued job for a key. */
export function jobFor(key: string, overrides: Partial<Job> = {}): Job {
  return {
    id: `job-${key.replace(/[^a-z0-9]+/gi, '-')}`,
    status: 'running',
    source: { bucket: BUCKET, key, versionId: null, etag: null, size: null },
    trigger: 'rest',
    pipeline: 'default',
    attempts: 1,
    createdAt: new Date().toISOString(),
    startedAt: null,
    finishedAt: null,
    progress: { bytesRead: 0, totalBytes: null, rows: 0, rejected: 0 },
    output: null,
    error: null,
    runner: null,
    ...overrides,
  };
}

/** Job dependencies for a client, with pipelines given as `PIPELINES_FILE` JSON. */
export function depsFor(client: S3Client, pipelines: unknown[] = [], overrides: Partial<CsvJobDeps> = {}): CsvJobDeps {
  return {
    client,
    pipelines: createPipelineRegistry(parsePipelines({ pipelines })),
    output: { bucket: BUCKET, prefix: PREFIX },
    upload: { partSize: 5 * MIB, queueSize: 2 },
    csvMaxRecordBytes: MIB,
    read: { resumeDelayMs: 10 },
    ...overrides,
  };
}

/** The three output keys of a source key. */
export function outputsOf(key: string): { rows: string; rejects: string; manifest: string } {
  return {
    rows: `${OUTPUT_BASE}${key}/rows.ndjson`,
    rejects: `${OUTPUT_BASE}${key}/rejects.ndjson`,
    manifest: `${OUTPUT_BASE}${key}/manifest.json`,
  };
}

/** A CSV of `rows` data rows (about 100 bytes each) with a header. */
export function generateCsv(rows: number): string {
  const lines = ['timestamp,device_id,value,flag,note'];
  for (let i = 0; i < rows; i += 1) {
    lines.push(
      `2024-02-12T10:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z,dev-${i % 97},${(i * 1.25).toFixed(2)},${i % 2 === 0},"note ${i}, with a comma"`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** What a job left in S3: its rows and rejects parsed, its manifest, the raw texts. */
export interface JobOutputs {
  readonly rows: unknown[];
  readonly rejects: unknown[];
  readonly manifest: Record<string, unknown> | undefined;
  readonly texts: { readonly rows: string | undefined; readonly rejects: string | undefined };
}

/** Reads the outputs of a source key. */
export async function readOutputs(client: S3Client, key: string): Promise<JobOutputs> {
  const keys = outputsOf(key);
  const [rows, rejects, manifest] = await Promise.all([
    readText(client, keys.rows),
    readText(client, keys.rejects),
    readText(client, keys.manifest),
  ]);
  return {
    rows: parseLines(rows),
    rejects: parseLines(rejects),
    manifest: manifest === undefined ? undefined : (JSON.parse(manifest) as Record<string, unknown>),
    texts: { rows, rejects },
  };
}
