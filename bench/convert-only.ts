// node --import tsx bench/convert-only.ts FILE: the job's CSV → NDJSON step alone, on one
// core, no S3: csv-parse with the job's options plus the conversion, into a no-op byte stream.
// Prints {"seconds": …}. Run by bench/run.ts alone and two at once (how the machine's cores
// scale this work).
import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createNdjsonParser } from '../src/csv/create-ndjson-parser.ts';
import { createRejectWriter } from '../src/csv/create-reject-writer.ts';
import { csvParseOptions } from '../src/csv/csv-parse-options.ts';
import { parsePipelines } from '../src/csv/parse-pipelines.ts';
import { GENERATED_COLUMNS } from './generate-csv.ts';

const MB = 1024 * 1024;
const file = process.argv[2];
if (file === undefined) throw new Error('usage: convert-only.ts FILE');
const [benchPipeline] = parsePipelines({
  pipelines: [{ name: 'bench', match: 'bench/**', columns: GENERATED_COLUMNS }],
});
const stats = { rows: 0, rejected: 0, dropped: 0, rowsBytes: 0, rejectsBytes: 0, columns: [] };
const sink = () =>
  new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
const started = performance.now();
const parser = createNdjsonParser({
  pipeline: benchPipeline!,
  csv: csvParseOptions(benchPipeline!.csv, ',', MB),
  delimiter: ',',
  maxRecordBytes: MB,
  rejects: createRejectWriter(sink(), benchPipeline!, stats),
  stats,
});
await pipeline(createReadStream(file, { highWaterMark: MB }), parser, sink());
console.log(JSON.stringify({ seconds: (performance.now() - started) / 1000, rows: stats.rows }));
