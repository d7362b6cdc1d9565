import type S3rver from 's3rver';
import { checkBucketName, checkStorableKey } from './check-storable-key.ts';

/** s3rver's error type: its controller answers `code` with the matching S3 status. */
type S3ErrorClass = new (code: string, message: string, detail?: Record<string, unknown>) => Error;

interface S3rverStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
}

/**
 * The store-side half of the key rules: every object path s3rver builds goes
 * through `getResourcePath`, including those of keys that come in a body (a
 * multi-object delete) or a header (`x-amz-copy-source`), which the request
 * guard does not parse. An unstorable bucket or key is S3's 400 there, before
 * any file is touched. Call it before `run()`.
 */
export function refuseUnstorableKeys(server: S3rver, S3Error: S3ErrorClass): void {
  const store = (server as unknown as { store: S3rverStore }).store;
  const getResourcePath = store.getResourcePath.bind(store);
  store.getResourcePath = (bucket, key, resource) => {
    const refused = checkBucketName(bucket) ?? (key === undefined || key === '' ? undefined : checkStorableKey(key));
    if (refused !== undefined) throw new S3Error(refused.code, refused.message);
    return getResourcePath(bucket, key, resource);
  };
}
