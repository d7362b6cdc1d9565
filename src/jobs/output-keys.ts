import type { JobOutput, JobSource } from './job.ts';

/**
 * Where a job's outputs go: `OUTPUT_PREFIX + source bucket + "/" + source key + "/"`
 * in the output bucket. Fixed by the source object alone, so a retry or re-run
 * overwrites them; the bucket is part of it, so objects of two buckets with the
 * same key never share (or overwrite) outputs.
 */
export function outputKeys(bucket: string, prefix: string, source: Pick<JobSource, 'bucket' | 'key'>): JobOutput {
  const base = `${prefix}${source.bucket}/${source.key}/`;
  return { bucket, rows: `${base}rows.ndjson`, rejects: `${base}rejects.ndjson`, manifest: `${base}manifest.json` };
}
