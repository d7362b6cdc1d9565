/** Why the embedded S3 server refuses a bucket name or key, as S3 would word it (an S3 error code and a sentence). */
export interface UnstorableReason {
  readonly code: 'KeyTooLongError' | 'InvalidArgument' | 'InvalidBucketName';
  readonly message: string;
}

/**
 * The longest segment of a key s3rver can store, in UTF-8 bytes: NAME_MAX (255
 * on ext4, xfs, btrfs, tmpfs and APFS) less its longest suffix,
 * `._S3rver_metadata.json` (22 bytes). Any segment may end up as a last one.
 */
export const MAX_KEY_SEGMENT_BYTES = 255 - '._S3rver_metadata.json'.length;

/** S3's own limit on a key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

const S3RVER_SUFFIX = '._S3rver_';
// S3's bucket naming rules (lowercase, 3 to 63 characters, no `..`): a valid name is one plain directory.
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Whether s3rver can store `key` safely: each segment becomes a directory or a
 * file name under the bucket's directory, so a segment too long for the file
 * system (ENAMETOOLONG), one ending in s3rver's own suffix (EISDIR: a file
 * where a directory is needed), or a `.`/`..` segment (a path outside the
 * bucket) would break it or escape it. An empty segment is refused except the
 * last (`folder/` marker objects): `a//b` would be stored as `a/b`.
 */
export function checkStorableKey(key: string): UnstorableReason | undefined {
  if (Buffer.byteLength(key) > MAX_KEY_BYTES)
    return { code: 'KeyTooLongError', message: `Your key is too long: keys are at most ${MAX_KEY_BYTES} bytes.` };
  if (hasControlCharacter(key))
    return {
      code: 'InvalidArgument',
      message:
        'The key contains a control character (NUL, a line break, …), which the embedded S3 server does not store.',
    };
  if (key.includes(S3RVER_SUFFIX))
    return {
      code: 'InvalidArgument',
      message: `The key contains "${S3RVER_SUFFIX}", which the embedded S3 server reserves for its own files.`,
    };
  const segments = key.split('/');
  for (const [index, segment] of segments.entries()) {
    if (Buffer.byteLength(segment) > MAX_KEY_SEGMENT_BYTES) {
      return {
        code: 'KeyTooLongError',
        message: `A segment of the key (between slashes) is over ${MAX_KEY_SEGMENT_BYTES} bytes, which the embedded S3 server cannot store as a file name.`,
      };
    }
    if (segment === '.' || segment === '..')
      return {
        code: 'InvalidArgument',
        message: 'The key has a "." or ".." segment, which the embedded S3 server does not store.',
      };
    if (segment === '' && index < segments.length - 1)
      return {
        code: 'InvalidArgument',
        message:
          'The key has an empty segment (a leading or doubled slash), which the embedded S3 server does not store.',
      };
  }
  return undefined;
}

/** Whether `bucket` follows S3's naming rules, so that it is one plain directory under the server's. */
export function checkBucketName(bucket: string): UnstorableReason | undefined {
  if (BUCKET_NAME.test(bucket) && !bucket.includes('..')) return undefined;
  return {
    code: 'InvalidBucketName',
    message: 'The specified bucket is not valid: bucket names are 3 to 63 lowercase letters, digits, dots and hyphens.',
  };
}

// NUL and the other C0 controls, and DEL: a file name cannot hold NUL, and the rest break logs and listings.
function hasControlCharacter(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
