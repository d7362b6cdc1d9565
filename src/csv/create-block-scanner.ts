import type { CsvDialect } from './pipeline-schema.ts';

/** One block of an object: whole records, cut right after a record delimiter. */
export interface CsvBlock {
  /** 0 for the object's first block (BOM, skipped lines, header). */
  readonly index: number;
  /** Byte offset of `bytes[0]` in the object. */
  readonly offset: number;
  /**
   * The start of memory of its own (never a slice of a shared pool), which may run
   * past the block: the room it was gathered in. Its `buffer` can be moved to a worker thread.
   */
  readonly bytes: Buffer;
  /**
   * With `count`: the physical lines and the data records the block holds, as a
   * scan can tell them (a parse has the last word: an empty line of quotes, or
   * one cut by a chunk boundary, is counted as a record).
   */
  readonly counts?: { readonly lines: number; readonly records: number };
}

export interface BlockScannerOptions {
  readonly dialect: Pick<CsvDialect, 'quote' | 'encoding'>;
  /** The delimiter in use (configured or detected). */
  readonly delimiter: string;
  /** Cut at the first record boundary at least this many bytes past the block's start. */
  readonly blockBytes: number;
  /** The same for the first block (smaller: the others wait for its header). Default: `blockBytes`. */
  readonly firstBlockBytes?: number;
  /**
   * Blocks after block 0 that ramp up to `blockBytes`, each twice the one before
   * (3: ⅛, ¼, ½ of it, then whole), never below `firstBlockBytes`: the parse
   * threads start while the first whole blocks are still being read. Default 0.
   */
  readonly rampBlocks?: number;
  /** Whether to count each block's lines and records (a transform numbers its rows before the join does). */
  readonly count?: boolean;
  /**
   * The object's size, when known before it is read, and the blocks that are parsed
   * at once: near the end each block is at most what is left divided by `share`
   * (never below an eighth of `blockBytes`), so the parse threads finish together
   * rather than one parsing the last whole block alone. A size that is off only
   * moves the cuts.
   */
  readonly tail?: { readonly totalBytes: number; readonly share: number };
}

export interface BlockScanner {
  /** The next bytes of the object; returns the blocks they complete. */
  push(chunk: Buffer): CsvBlock[];
  /** The end of the object: the last block (block 0, maybe empty, when no block was cut). */
  end(): CsvBlock[];
  /** Bytes held since the last cut. */
  readonly pendingBytes: number;
  /** Whether cuts are possible at all (see `canSplit`). */
  readonly splitting: boolean;
  /** Hands over the bytes held since the last cut and stops cutting; later bytes are not held. */
  drain(): CsvBlock;
}

// Where the scan stands; csv-parse's state with `relax_quotes`, no trim, no comments.
/** Not in quotes, nothing in the field yet: a quote here opens a quoted field. */
const FIELD_START = 0;
/** Not in quotes, the field has text: a quote here is a character. */
const UNQUOTED = 1;
/** A CR outside quotes: a record delimiter if a LF follows, else a character. */
const CR_SEEN = 2;
/** Inside quotes. */
const QUOTED = 3;
/** Inside quotes, just after the quote (the escape too): doubled, or the field's close. */
const QUOTE_SEEN = 4;
/** Inside quotes, just after an escape that differs from the quote: the next byte is taken as is. */
const ESCAPED = 5;

const LF = 0x0a;
const CR = 0x0d;
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const UTF16LE_BOM = Buffer.from([0xff, 0xfe]);
/** Blocks near the end are at least `blockBytes` divided by this: each block has costs of its own. */
const TAIL_FLOOR_SHARE = 8;
/** Room past a block's target when it is first allocated: a cut falls at the first record end past the target. */
const ROOM_PAST_TARGET = 64 * 1024;

/**
 * Whether an object in this dialect can be cut by a byte scan: a single-byte
 * encoding of the delimiter, the quote and csv-parse's escape (`"`, its default).
 * Otherwise (`utf16le`, a multi-byte delimiter or quote) it is parsed in one pass.
 */
export function canSplit(dialect: Pick<CsvDialect, 'quote' | 'encoding'>, delimiter: string): boolean {
  if (dialect.encoding === 'utf16le') return false;
  const single = (text: string) => Buffer.byteLength(text, dialect.encoding) === 1;
  return single(delimiter) && (dialect.quote === null || single(dialect.quote)) && single('"');
}

/**
 * Cuts an object's bytes into blocks of whole records, exactly where csv-parse
 * (with the job's options: `relax_quotes`, CRLF and LF record delimiters, a
 * quote that opens only at a field's start, doubled quotes, `"` escapes) ends a
 * record, so each block parses alone as it would in one pass. The state is
 * carried across chunks, so a cut never needs to look back: it falls right after
 * the LF of a record delimiter, never between its CR and LF. A BOM is only
 * looked for at the object's start; one that changes the encoding stops the
 * cuts (csv-parse then decodes the whole object in the BOM's encoding).
 */
export function createBlockScanner(options: BlockScannerOptions): BlockScanner {
  const { dialect, delimiter, blockBytes, count = false, tail } = options;
  const firstBlockBytes = options.firstBlockBytes ?? blockBytes;
  const rampBlocks = options.rampBlocks ?? 0;
  const tailFloor = Math.max(firstBlockBytes, Math.floor(blockBytes / TAIL_FLOOR_SHARE));
  /** Where block `at`, starting at `offset`, is cut: at the first record boundary this many bytes past its start. */
  const targetOf = (at: number): number => {
    if (at === 0) return firstBlockBytes;
    const ramped =
      at > rampBlocks ? blockBytes : Math.max(firstBlockBytes, Math.floor(blockBytes / 2 ** (rampBlocks - at + 1)));
    if (tail === undefined) return ramped;
    return Math.min(ramped, Math.max(tailFloor, Math.ceil((tail.totalBytes - offset) / tail.share)));
  };
  let splitting = canSplit(dialect, delimiter);
  const [delimiterByte] = Buffer.from(delimiter, dialect.encoding);
  const quoteByte = dialect.quote === null ? -1 : Buffer.from(dialect.quote, dialect.encoding)[0]!;
  const escapeByte = Buffer.from('"', dialect.encoding)[0]!;
  const escapeIsQuote = escapeByte === quoteByte;

  /**
   * The block being gathered: each chunk is copied in as it is scanned (and can be
   * freed then), and `room` is handed over as the block when it is cut.
   */
  let room: Buffer | undefined;
  let pendingBytes = 0;
  /** The object's first bytes, until there are enough to look for a BOM. */
  let early: Buffer[] = [];
  /** Object offset of the block being gathered. */
  let offset = 0;
  let index = 0;
  let state = FIELD_START;
  /** Whether the object's first bytes have been checked for a BOM. */
  let started = false;
  let drained = false;
  /** Records ended in the block being gathered (with `count`). */
  let records = 0;
  /** Where the record being scanned starts in the chunk: -1 when it began in an earlier one. */
  let recordStart = 0;

  /** Copies `bytes` into the block being gathered, making room (twice as much) when they do not fit. */
  const append = (bytes: Buffer): void => {
    if (bytes.length === 0) return;
    const needed = pendingBytes + bytes.length;
    if (room === undefined || needed > room.length) {
      const grown = Buffer.allocUnsafeSlow(
        room === undefined ? Math.max(needed, targetOf(index) + ROOM_PAST_TARGET) : Math.max(needed, room.length * 2),
      );
      room?.copy(grown, 0, 0, pendingBytes);
      room = grown;
    }
    pendingBytes += bytes.copy(room, pendingBytes);
  };

  const take = (extra?: Buffer): CsvBlock => {
    if (extra !== undefined) append(extra);
    const bytes = room === undefined ? Buffer.allocUnsafeSlow(0) : room.subarray(0, pendingBytes);
    const block: CsvBlock = count
      ? { index, offset, bytes, counts: { lines: lineFeeds(bytes), records } }
      : { index, offset, bytes };
    records = 0;
    index += 1;
    offset += pendingBytes;
    room = undefined;
    pendingBytes = 0;
    return block;
  };

  /** Scans `chunk`, cutting blocks as it passes boundaries past the target. */
  const scan = (chunk: Buffer, blocks: CsvBlock[]): void => {
    let kept = 0;
    let target = targetOf(index) - pendingBytes;
    let s = state;
    const length = chunk.length;
    /** The next quote byte at or after the current line's start (`length`: none in the chunk). */
    let quoteAt = -1;
    for (let at = 0; at < length; at += 1) {
      const byte = chunk[at]!;
      if (s === QUOTED) {
        // Most of a quoted field: jump to the next byte that matters.
        const next = escapeIsQuote ? chunk.indexOf(quoteByte, at) : nextOf(chunk, at, quoteByte, escapeByte);
        if (next === -1) break;
        at = next;
        // With an escape of its own, a quote inside quotes always closes the field.
        if (escapeIsQuote) s = QUOTE_SEEN;
        else s = chunk[at] === escapeByte ? ESCAPED : UNQUOTED;
        continue;
      }
      if (s === ESCAPED) {
        s = QUOTED;
        continue;
      }
      if (s === QUOTE_SEEN) {
        // A doubled quote stays in the field; anything else closes it (relaxed when not a delimiter).
        if (byte === quoteByte) {
          s = QUOTED;
          continue;
        }
        s = UNQUOTED;
      } else if (s === CR_SEEN) {
        if (byte !== LF) s = UNQUOTED;
      }
      // Outside quotes (FIELD_START, UNQUOTED, or CR_SEEN on its LF).
      if (byte === LF) {
        if (count) {
          if (!isEmptyRecord(chunk, recordStart, at)) records += 1;
          recordStart = at + 1;
        }
        s = FIELD_START;
        if (splitting && at + 1 - kept >= target) {
          blocks.push(take(chunk.subarray(kept, at + 1)));
          kept = at + 1;
          target = targetOf(index);
        }
        // A line that holds no quote byte is outside quotes to its end, whatever its fields: on to its LF at
        // once (most lines of most objects; the others are scanned byte by byte).
        const lineEnd = chunk.indexOf(LF, at + 1);
        if (lineEnd !== -1) {
          if (quoteAt <= at) {
            const next = quoteByte === -1 ? -1 : chunk.indexOf(quoteByte, at + 1);
            quoteAt = next === -1 ? length : next;
          }
          if (quoteAt > lineEnd) {
            at = lineEnd - 1;
            s = UNQUOTED;
          }
        }
      } else if (byte === CR) s = CR_SEEN;
      else if (byte === delimiterByte) s = FIELD_START;
      else if (byte === quoteByte && s === FIELD_START) s = QUOTED;
      else s = UNQUOTED;
    }
    state = s;
    // A record that starts right at the next chunk is known to start there.
    recordStart = recordStart === length ? 0 : -1;
    if (kept < length) append(kept === 0 ? chunk : chunk.subarray(kept));
  };

  return {
    push(chunk) {
      const blocks: CsvBlock[] = [];
      if (drained) return blocks;
      if (started) {
        scan(chunk, blocks);
        return blocks;
      }
      early.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= UTF8_BOM.length) start(blocks);
      return blocks;
    },
    end() {
      const blocks: CsvBlock[] = [];
      if (drained) return blocks;
      if (!started) start(blocks);
      if (pendingBytes > 0 || index === 0) blocks.push(take());
      return blocks;
    },
    get pendingBytes() {
      return pendingBytes;
    },
    get splitting() {
      return splitting;
    },
    drain() {
      drained = true;
      splitting = false;
      if (!started) append(Buffer.concat(early.splice(0)));
      return take();
    },
  };

  /** Checks the object's first bytes for a BOM, then scans what is held. */
  function start(blocks: CsvBlock[]): void {
    started = true;
    const held = Buffer.concat(early, pendingBytes);
    early = [];
    pendingBytes = 0;
    const from = held.subarray(0, UTF8_BOM.length).equals(UTF8_BOM) ? UTF8_BOM.length : 0;
    // csv-parse decodes the whole object in the encoding its BOM names: the later blocks could not know.
    if (held.subarray(0, UTF16LE_BOM.length).equals(UTF16LE_BOM) || (from > 0 && dialect.encoding !== 'utf8'))
      splitting = false;
    // The BOM stays in block 0 (csv-parse drops it there and counts it in its byte offsets).
    append(held.subarray(0, from));
    scan(held.subarray(from), blocks);
  }

  /** Whether the record from `start` to the LF at `end` is an empty line (nothing, or an empty quoted field). */
  function isEmptyRecord(chunk: Buffer, start: number, end: number): boolean {
    if (start < 0) return false;
    const length = chunk[end - 1] === CR && end > start ? end - 1 - start : end - start;
    return length === 0 || (length === 2 && chunk[start] === quoteByte && chunk[start + 1] === quoteByte);
  }
}

/** Line feeds in `bytes`. */
function lineFeeds(bytes: Buffer): number {
  let feeds = 0;
  for (let at = bytes.indexOf(LF); at !== -1; at = bytes.indexOf(LF, at + 1)) feeds += 1;
  return feeds;
}

/** The first position at or after `from` holding `a` or `b`, or -1. */
function nextOf(chunk: Buffer, from: number, a: number, b: number): number {
  const first = chunk.indexOf(a, from);
  const second = chunk.indexOf(b, from);
  if (first === -1) return second;
  if (second === -1) return first;
  return Math.min(first, second);
}
