import { isUtf8 } from 'node:buffer';

/**
 * Finds the bytes of a stream that are not valid UTF-8, chunk by chunk, and
 * hands their offsets to the records that hold them. A valid chunk (the common
 * case) costs one native `isUtf8` over it; only a chunk that fails is scanned
 * byte by byte, to note where each invalid sequence starts.
 */
export interface InvalidUtf8Tracker {
  /** Notes the invalid sequences of the next chunk of the stream. */
  scan(chunk: Buffer): void;
  /** The end of the stream: a sequence cut short there is invalid too. */
  end(): void;
  /**
   * The first invalid offset before `end` (a record's end offset in the
   * stream), if any; every offset before `end` is consumed.
   */
  takeBefore(end: number): number | undefined;
}

export function createInvalidUtf8Tracker(): InvalidUtf8Tracker {
  /** Offsets of invalid sequences not yet handed to a record, in order. */
  const pending: number[] = [];
  /** Bytes of a sequence that the previous chunk began and did not finish. */
  let carry: Buffer = Buffer.alloc(0);
  /** Stream offset of `carry[0]` (or of the next chunk when `carry` is empty). */
  let offset = 0;

  return {
    scan(chunk) {
      const bytes = carry.length === 0 ? chunk : Buffer.concat([carry, chunk]);
      const cut = bytes.length - unfinishedTail(bytes);
      const whole = bytes.subarray(0, cut);
      if (!isUtf8(whole)) pending.push(...invalidOffsets(whole, offset));
      carry = Buffer.from(bytes.subarray(cut));
      offset += cut;
    },
    end() {
      if (carry.length > 0) pending.push(offset);
      offset += carry.length;
      carry = Buffer.alloc(0);
    },
    takeBefore(end) {
      if (pending.length === 0 || pending[0]! >= end) return undefined;
      const first = pending[0];
      let count = 0;
      while (count < pending.length && pending[count]! < end) count += 1;
      pending.splice(0, count);
      return first;
    },
  };
}

/** How many bytes at the end of `bytes` begin a sequence that the next chunk may finish (0-3). */
function unfinishedTail(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back += 1) {
    const byte = bytes[bytes.length - back]!;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const length = sequenceLength(byte);
    return length > back ? back : 0;
  }
  return 0;
}

/** The length a lead byte announces; 0 for a byte that cannot start a sequence. */
function sequenceLength(byte: number): number {
  if (byte < 0x80) return 1;
  if (byte >= 0xc2 && byte <= 0xdf) return 2;
  if (byte >= 0xe0 && byte <= 0xef) return 3;
  if (byte >= 0xf0 && byte <= 0xf4) return 4;
  return 0;
}

/**
 * Start offsets of the invalid sequences (maximal subparts, as decoders count
 * them for U+FFFD) in bytes that hold no unfinished tail.
 */
function invalidOffsets(bytes: Buffer, base: number): number[] {
  const found: number[] = [];
  let at = 0;
  while (at < bytes.length) {
    const lead = bytes[at]!;
    const length = sequenceLength(lead);
    if (length === 1) {
      at += 1;
      continue;
    }
    const valid = length === 0 ? 0 : validPrefix(bytes, at, lead, length);
    if (length > 0 && valid === length) {
      at += length;
      continue;
    }
    found.push(base + at);
    at += Math.max(1, valid);
  }
  return found;
}

/** How many bytes from `at` form a valid (maybe partial) sequence of `length`. */
function validPrefix(bytes: Buffer, at: number, lead: number, length: number): number {
  let count = 1;
  while (count < length && at + count < bytes.length) {
    const byte = bytes[at + count]!;
    // The second byte's range excludes overlong forms and surrogates (E0, ED, F0, F4).
    const [low, high] = count === 1 ? secondByteRange(lead) : [0x80, 0xbf];
    if (byte < low || byte > high) break;
    count += 1;
  }
  return count;
}

function secondByteRange(lead: number): readonly [number, number] {
  if (lead === 0xe0) return [0xa0, 0xbf];
  if (lead === 0xed) return [0x80, 0x9f];
  if (lead === 0xf0) return [0x90, 0xbf];
  if (lead === 0xf4) return [0x80, 0x8f];
  return [0x80, 0xbf];
}
