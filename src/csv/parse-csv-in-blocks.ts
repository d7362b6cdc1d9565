import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createBlockJoin } from './create-block-join.ts';
import { copyToOwnMemory } from './copy-to-own-memory.ts';
import { canSplit, createBlockScanner, type CsvBlock } from './create-block-scanner.ts';
import { createNdjsonParser, type ParseStart, type RowStats } from './create-ndjson-parser.ts';
import { createRejectWriter } from './create-reject-writer.ts';
import { createRowTransformer } from './create-row-transformer.ts';
import { csvParseOptions } from './csv-parse-options.ts';
import { loadTransform, type TransformLoader } from './load-transform.ts';
import type { BlockContext, BlockResult } from './parse-block.ts';
import type { Pipeline } from './pipeline-schema.ts';

/** Parses one block (on a worker thread, or in place); it may move `block.bytes` there (they are empty after). */
export type BlockParser = (block: CsvBlock, context: BlockContext) => Promise<BlockResult>;

/**
 * Blocks in flight across every job: one permit is taken before a block is
 * sent to be parsed and given back once its result is joined, so the blocks
 * held at once stay bounded however many jobs run.
 */
export interface BlockPermits {
  acquire(): Promise<void>;
  release(): void;
}

export interface CsvInBlocksOptions {
  readonly pipeline: Pipeline;
  /** The delimiter in use (configured or detected). */
  readonly delimiter: string;
  /** `CSV_MAX_RECORD_BYTES`. */
  readonly maxRecordBytes: number;
  /** `CSV_BLOCK_BYTES`; 0: one sequential pass. */
  readonly blockBytes: number;
  /** The first block's size (it is parsed before the others start: they need its header). */
  readonly firstBlockBytes: number;
  /** Blocks after the first that ramp up to `blockBytes` (see `createBlockScanner`); default 0. */
  readonly rampBlocks?: number;
  /**
   * Most bytes gathered for one block. Past it (a record with no end in sight, or a
   * header that does not come) the rest of the object is parsed in one pass, which
   * keeps memory as bounded as the sequential parser keeps it.
   */
  readonly maxBlockBytes: number;
  /** Blocks being parsed at once. */
  readonly maxInFlight: number;
  /** The object's size, when known: blocks shrink towards its end (see `createBlockScanner`'s `tail`). */
  readonly totalBytes?: number;
  readonly parse: BlockParser;
  /** Shared with other jobs; unset: only `maxInFlight` bounds the blocks. */
  readonly permits?: BlockPermits;
  /** The outputs; they are written with backpressure and left open. */
  readonly rows: Writable;
  readonly rejects: Writable;
  readonly stats: RowStats;
  readonly signal: AbortSignal;
  /** The source object's key (a transform is given it). */
  readonly key: string;
  /** Gives the pipeline's transform for a pass in this thread (default: its module, imported). */
  readonly loadTransform?: TransformLoader;
}

/** A block handed to `parse`, and what it was given. */
interface InFlight {
  readonly block: CsvBlock;
  readonly context: BlockContext;
  readonly parsed: Promise<BlockResult>;
}

/**
 * CSV bytes in, the rows and rejects outputs out, byte for byte as one
 * sequential pass writes them: the bytes are cut into blocks of whole records,
 * the blocks parsed at once (up to `maxInFlight`), their results joined in
 * source order. Block 0 goes first, alone, and is merged with the next until it
 * holds the header. Resolves with the number of blocks parsed (1 for one pass);
 * rejects with the job's error (the first in source order).
 */
export async function parseCsvInBlocks(input: AsyncIterable<Buffer>, options: CsvInBlocksOptions): Promise<number> {
  const {
    pipeline: definition,
    delimiter,
    maxRecordBytes,
    blockBytes,
    maxBlockBytes,
    maxInFlight,
    parse,
    permits,
    rows,
    rejects,
    stats,
    signal,
    key,
    loadTransform: load = loadTransform,
  } = options;
  const iterator = input[Symbol.asyncIterator]();
  const transformed = definition.transform !== undefined;

  /** Parses the rest of the input in one pass, from `leading` on. */
  const parseRest = async (leading: readonly Buffer[], start: ParseStart | undefined): Promise<void> => {
    const loaded = await load(definition);
    const parser = createNdjsonParser({
      ...(loaded === undefined ? {} : { transform: createRowTransformer({ loaded, pipeline: definition.name, key }) }),
      pipeline: definition,
      csv: csvParseOptions(definition.csv, delimiter, maxRecordBytes),
      delimiter,
      maxRecordBytes,
      rejects: createRejectWriter(rejects, definition, stats),
      stats,
      start,
    });
    async function* rest(): AsyncGenerator<Buffer> {
      yield* leading;
      for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) yield next.value;
    }
    await pipeline(rest(), parser, rows, { signal, end: false });
  };

  if (blockBytes === 0 || !canSplit(definition.csv, delimiter)) {
    await parseRest([], undefined);
    return 1;
  }

  const scanner = createBlockScanner({
    dialect: definition.csv,
    delimiter,
    blockBytes,
    firstBlockBytes: options.firstBlockBytes,
    ...(options.rampBlocks === undefined ? {} : { rampBlocks: options.rampBlocks }),
    count: transformed,
    ...(options.totalBytes === undefined ? {} : { tail: { totalBytes: options.totalBytes, share: maxInFlight } }),
  });
  const join = createBlockJoin({ pipeline: definition, maxRecordBytes, stats });
  /** The header's names, once block 0 is joined. */
  let names: readonly string[] | undefined;
  /** Block 0 while it holds no header, and its size. */
  let head: Buffer | undefined;
  const inFlight: InFlight[] = [];
  let blocks = 0;
  /** With a transform: the lines and records before the next block, as the scan counts them. */
  let counted = { lines: 0, records: 0 };

  const settle = async (result: BlockResult): Promise<void> => {
    try {
      const joined = join.add(result);
      blocks += 1;
      // Piece by piece: the upload copies each into its parts, so each can be freed on its own.
      for (const piece of joined.rows) await write(rows, piece, signal);
      await write(rejects, joined.rejects, signal);
    } finally {
      permits?.release();
    }
  };
  /** Parses a block under the permit taken for it (given back if the parse fails: no result will be joined). */
  const parseHeld = (block: CsvBlock, context: BlockContext): Promise<BlockResult> =>
    parse(block, context).catch((error: unknown) => {
      permits?.release();
      throw error;
    });
  /**
   * Takes a permit, joining this job's own results while it waits: a job never
   * waits for a permit while holding one it could give back (no deadlock).
   */
  const acquire = async (): Promise<void> => {
    if (permits === undefined) return;
    const granted = permits.acquire();
    try {
      while (inFlight.length > 0) {
        const first = await Promise.race([
          granted.then(() => true),
          inFlight[0]!.parsed.then(
            () => false,
            () => false,
          ),
        ]);
        if (first) return;
        await settleInOrder(inFlight.shift()!);
      }
    } catch (error) {
      // The job failed while waiting: the permit, once granted, goes straight back.
      granted.then(
        () => permits.release(),
        () => undefined,
      );
      throw error;
    }
    await granted;
  };
  /**
   * Whether this job holds a permit for the block being gathered. The permit is
   * taken before the block's bytes are read, not once it is cut: reading waits
   * for it, so a job never holds a whole block beyond the permitted ones.
   */
  let held = false;
  const hold = async (): Promise<void> => {
    if (held) return;
    await acquire();
    held = true;
  };
  const giveBackHeld = (): void => {
    if (!held) return;
    held = false;
    permits?.release();
  };
  /** A block's result, parsed again when the scan's count of what came before it was off. */
  const settleInOrder = async ({ block, context, parsed }: InFlight): Promise<void> => {
    const result = await parsed;
    const { before } = context;
    const actual = { lines: join.line - 1, records: join.records };
    if (
      before === undefined ||
      result.error !== undefined ||
      (before.lines === actual.lines && before.records === actual.records)
    ) {
      await settle(result);
      return;
    }
    // Later blocks were counted from the same miss.
    counted = {
      lines: counted.lines + actual.lines - before.lines,
      records: counted.records + actual.records - before.records,
    };
    await settle(await parseHeld(block, { ...context, before: actual }));
  };
  const handle = async (block: CsvBlock, last: boolean): Promise<void> => {
    const context: BlockContext = {
      pipeline: definition,
      delimiter,
      maxRecordBytes,
      index: block.index,
      offset: block.offset,
      last,
      key,
      ...(names === undefined ? {} : { names }),
      ...(transformed && names !== undefined ? { before: counted } : {}),
    };
    await hold();
    // The permit is the block's now.
    held = false;
    if (names !== undefined) {
      if (block.counts !== undefined) {
        counted = { lines: counted.lines + block.counts.lines, records: counted.records + block.counts.records };
      }
      const parsed = parseHeld(block, context);
      parsed.catch(() => undefined);
      inFlight.push({ block, context, parsed });
      while (inFlight.length >= maxInFlight) await settleInOrder(inFlight.shift()!);
      return;
    }
    const bytes = head === undefined ? block.bytes : copyToOwnMemory([head, block.bytes]);
    // `parse` may move what it is given to another thread; these bytes are needed again if they hold no header.
    const result = await parseHeld(
      { index: 0, offset: 0, bytes: copyToOwnMemory([bytes]) },
      { ...context, index: 0, offset: 0 },
    );
    if (result.names === undefined && result.error === undefined && !last) {
      permits?.release();
      head = bytes;
      return;
    }
    head = undefined;
    names = result.names;
    await settle(result);
    counted = { lines: join.line - 1, records: join.records };
  };

  try {
    return await run();
  } catch (error) {
    giveBackHeld();
    // Results no one will join give their permits back as they come.
    for (const { parsed } of inFlight.splice(0))
      parsed.then(
        () => permits?.release(),
        () => undefined,
      );
    throw error;
  }

  async function run(): Promise<number> {
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
      signal.throwIfAborted();
      await hold();
      for (const block of scanner.push(next.value)) await handle(block, false);
      if (!scanner.splitting || scanner.pendingBytes > maxBlockBytes || (head?.length ?? 0) > maxBlockBytes) {
        giveBackHeld();
        while (inFlight.length > 0) await settleInOrder(inFlight.shift()!);
        const rest = scanner.drain();
        if (names === undefined) await parseRest([...(head === undefined ? [] : [head]), rest.bytes], undefined);
        else await parseRest([rest.bytes], { line: join.line, record: join.records, byteOffset: rest.offset, names });
        return blocks + 1;
      }
    }
    const last = scanner.end();
    // The object ended right after a cut while block 0 still waited for its header.
    if (last.length === 0 && names === undefined) last.push({ index: 0, offset: 0, bytes: Buffer.alloc(0) });
    for (const block of last) await handle(block, true);
    giveBackHeld();
    while (inFlight.length > 0) await settleInOrder(inFlight.shift()!);
    return blocks;
  }
}

async function write(stream: Writable, data: Buffer | string, signal: AbortSignal): Promise<void> {
  if (data.length === 0) return;
  if (!stream.write(data)) await once(stream, 'drain', { signal });
}
