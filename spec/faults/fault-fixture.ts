import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createReadStream } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generateCsv } from '../../bench/generate-csv.ts';

/** A temp directory for a fault spec. */
export function tempDir(name: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `s3-csv-ingest-${name}-`));
}

/** Generates a CSV of about `mb` MiB in `dir` and puts it at each key; returns its record count. */
export async function putGenerated(
  client: S3Client,
  dir: string,
  mb: number,
  keys: readonly string[],
): Promise<number> {
  const file = path.join(dir, `data-${mb}.csv`);
  const { records } = await generateCsv(file, mb * 1024 * 1024);
  for (const key of keys) {
    await new Upload({
      client,
      params: { Bucket: 'ingest', Key: key, Body: createReadStream(file) },
      partSize: 8 * 1024 * 1024,
      queueSize: 2,
    }).done();
  }
  return records;
}

/**
 * Reads a job's rows output and checks each record appears exactly once (the
 * generated timestamps are unique); returns the row count.
 */
export async function countUniqueRows(client: S3Client, key: string): Promise<{ rows: number; unique: number }> {
  const response = await client.send(new GetObjectCommand({ Bucket: 'ingest', Key: key }));
  const text = await response.Body!.transformToString('utf8');
  const stamps = new Set<string>();
  let rows = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    rows += 1;
    stamps.add(String((JSON.parse(line) as { timestamp: unknown }).timestamp));
  }
  return { rows, unique: stamps.size };
}

export async function postJson(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export async function getJson(url: string): Promise<Record<string, unknown>> {
  return (await (await fetch(url)).json()) as Record<string, unknown>;
}

/** Polls until `check` returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
