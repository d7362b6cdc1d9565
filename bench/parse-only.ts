// node --import tsx bench/parse-only.ts FILE: csv-parse alone with the job's options, on one core,
// from disk, each record taken by a no-op object stream (the cheapest consumer): the ceiling of
// any one-thread parse. Prints {"seconds": …, "records": …}.
import { parse } from 'csv-parse';
import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { csvParseOptions } from '../src/csv/csv-parse-options.ts';
import { parsePipelines } from '../src/csv/parse-pipelines.ts';
import { GENERATED_COLUMNS } from './generate-csv.ts';

const MB = 1024 * 1024;
const file = process.argv[2];
if (file === undefined) throw new Error('usage: parse-only.ts FILE');
const [benchPipeline] = parsePipelines({
  pipelines: [{ name: 'bench', match: 'bench/**', columns: GENERATED_COLUMNS }],
});
let records = 0;
const started = performance.now();
await pipeline(
  createReadStream(file, { highWaterMark: MB }),
  parse(csvParseOptions(benchPipeline!.csv, ',', MB)),
  new Writable({
    objectMode: true,
    highWaterMark: 1024,
    write(_record, _encoding, callback) {
      records += 1;
      callback();
    },
  }),
);
console.log(JSON.stringify({ seconds: (performance.now() - started) / 1000, records }));
