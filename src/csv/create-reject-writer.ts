import type { Writable } from 'node:stream';
import { checkRejectLimit } from './check-reject-limit.ts';
import { formatReject, type Reject } from './format-reject.ts';
import type { Pipeline } from './pipeline-schema.ts';

/** Where the parser hands its rejects, in source order. */
export interface RejectSink {
  /** Takes one reject; `false` asks the parser to wait for `'drain'`. Throws to fail the parse. */
  write(reject: Reject): boolean;
  once(event: 'drain', listener: () => void): unknown;
}

/** Counters a reject writer updates. */
export interface RejectCounters {
  rejected: number;
  rejectsBytes: number;
}

/**
 * Rejects as lines of `rejects.ndjson` on a byte stream (the rejects upload),
 * `maxRejected` applied as each one arrives. `counters.rejected` already
 * counts the reject handed over.
 */
export function createRejectWriter(
  stream: Writable,
  pipeline: Pick<Pipeline, 'name' | 'maxRejected'>,
  counters: RejectCounters,
): RejectSink {
  return {
    write(reject) {
      checkRejectLimit(pipeline, counters.rejected, reject);
      const text = formatReject(reject);
      counters.rejectsBytes += Buffer.byteLength(text);
      return stream.write(text);
    },
    once(event, listener) {
      return stream.once(event, listener);
    },
  };
}
