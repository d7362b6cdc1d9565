/** S3's limit on the parts of one multipart upload. */
export const MAX_PARTS = 10_000;
/** S3's largest part. */
const MAX_PART_BYTES = 5 * 1024 ** 3;
const MiB = 1024 ** 2;
/**
 * NDJSON bytes per CSV byte that the sizing allows for. Every row repeats its
 * column names and quotes its strings, so rows (and rejects, which carry the
 * record and a reason) run to a few times the CSV; this bound holds for
 * column names up to about three times a field's length.
 */
const OUTPUT_PER_SOURCE_BYTE = 4;
/** Decompressed bytes per gzip byte allowed for: CSV compresses well. */
const GZIP_EXPANSION = 10;

/**
 * The part size of a job's outputs: `S3_PART_SIZE`, or more for a source so
 * large that its outputs could need more than S3's 10,000 parts at that size
 * (a multipart upload cannot change its part size once started). Rounded up to
 * whole MiB. An unknown size keeps `S3_PART_SIZE`.
 */
export function outputPartSize(partSize: number, source: { size: number | undefined; gzip: boolean }): number {
  if (source.size === undefined) return partSize;
  const expected = source.size * OUTPUT_PER_SOURCE_BYTE * (source.gzip ? GZIP_EXPANSION : 1);
  const needed = Math.ceil(expected / MAX_PARTS / MiB) * MiB;
  return Math.min(MAX_PART_BYTES, Math.max(partSize, needed));
}
