/** The s3rver versions the patches in this folder were written and tested against. */
export const PATCHED_S3RVER_VERSIONS = /^3\.7\.\d+$/;

/** What the patches reach into: `path` in the server, and the type it must have. */
const INTERNALS: readonly (readonly [path: string, type: 'function' | 'array'])[] = [
  // supportAbortMultipartUpload, and s3rver.run() serving callback() (the request guard).
  ['middleware', 'array'],
  ['callback', 'function'],
  ['run', 'function'],
  ['close', 'function'],
  // completeMultipartUploadsInPlace, refuseUnstorableKeys.
  ['store.getResourcePath', 'function'],
  ['store.putMetadata', 'function'],
  ['store.putObjectMultipart', 'function'],
];

/**
 * The patches replace private parts of s3rver (its Koa middleware list, its
 * store's methods, its error class): a newer s3rver could rename them, and a
 * patch would then be skipped silently or break at the first request. This
 * checks, before any patch is applied, that the installed version is one they
 * were written for and that every part they replace is there, and throws an
 * error that names what is missing otherwise, so the service does not start.
 */
export function assertS3rverInternals(server: object, version: string, S3Error: unknown): void {
  const problems: string[] = [];
  if (!PATCHED_S3RVER_VERSIONS.test(version))
    problems.push(`the installed version is ${version}, the patches are written for 3.7`);
  for (const [path, type] of INTERNALS) {
    const value = path
      .split('.')
      .reduce<unknown>(
        (object, name) =>
          object === null || typeof object !== 'object' ? undefined : (object as Record<string, unknown>)[name],
        server,
      );
    const found = Array.isArray(value) ? 'array' : typeof value;
    if (found !== type)
      problems.push(
        `s3rver's ${path} is ${value === undefined ? 'missing' : `of type ${found}`}, not ${type === 'array' ? 'an array' : 'a function'}`,
      );
  }
  if (typeof S3Error !== 'function') problems.push('s3rver/lib/models/error.js does not export its error class');
  if (problems.length > 0) {
    throw new Error(
      `The embedded S3 server's patches of s3rver (src/storage/s3rver-*.ts) do not fit the installed s3rver: ${problems.join('; ')}. Install s3rver 3.7, or set S3_ENDPOINT to use another S3 server.`,
    );
  }
}
