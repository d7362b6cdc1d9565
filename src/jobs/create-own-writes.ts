export interface OwnWrites {
  /**
   * Marks an object as being written by this service (an upload). Call the
   * returned function when the write ends: with the stored ETag, or none when it
   * was aborted.
   */
  begin(bucket: string, key: string): (etag?: string) => void;
  /** Whether an S3 event for this object was caused by one of this service's own writes. */
  isOwn(bucket: string, key: string, etag: string | undefined): boolean;
}

export interface OwnWritesOptions {
  /** Finished writes remembered, oldest forgotten first. Default 1000. */
  readonly maxRemembered?: number;
}

/**
 * Remembers the objects the upload endpoint writes, so that the embedded S3's
 * event for one of them starts no second job. The embedded server emits its
 * event before it answers the write, so writes in flight count too.
 */
export function createOwnWrites(options: OwnWritesOptions = {}): OwnWrites {
  const { maxRemembered = 1000 } = options;
  // Objects being written now: identity → writes in flight.
  const writing = new Map<string, number>();
  // Finished writes (identity and ETag), oldest first.
  const written = new Set<string>();

  return {
    begin(bucket, key) {
      const id = identity(bucket, key);
      writing.set(id, (writing.get(id) ?? 0) + 1);
      let ended = false;
      return (etag) => {
        if (ended) return;
        ended = true;
        const left = (writing.get(id) ?? 1) - 1;
        if (left === 0) writing.delete(id);
        else writing.set(id, left);
        if (etag === undefined) return;
        written.add(withEtag(id, etag));
        for (const oldest of written) {
          if (written.size <= maxRemembered) break;
          written.delete(oldest);
        }
      };
    },
    isOwn(bucket, key, etag) {
      const id = identity(bucket, key);
      return writing.has(id) || (etag !== undefined && written.has(withEtag(id, etag)));
    },
  };
}

function identity(bucket: string, key: string): string {
  return JSON.stringify([bucket, key]);
}

function withEtag(id: string, etag: string): string {
  return `${id}${etag.replace(/"/g, '')}`;
}
