import type { JobOutput } from './job.ts';

/**
 * Where a job's outputs go: `OUTPUT_PREFIX + source key + "/"` in the output
 * bucket. Fixed by the source key alone, so a retry or re-run overwrites them.
 */
export function outputKeys(bucket: string, prefix: string, sourceKey: string): JobOutput {
  const base = `${prefix}${sourceKey}/`;
  return { bucket, rows: `${base}rows.ndjson`, rejects: `${base}rejects.ndjson`, manifest: `${base}manifest.json` };
}
