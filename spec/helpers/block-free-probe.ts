// Run in a process of its own by the CSV worker pool's spec, so that only this process's memory moves
// its RSS: parses one 48 MiB block on a parse thread of a fresh pool and prints, as JSON, the line of
// the block's error and the largest drop of RSS from the highest seen in the 5 s after the parse.
import { loadConfig } from '../../src/config/load-config.ts';
import { DEFAULT_PIPELINE } from '../../src/csv/default-pipeline.ts';
import { createCsvWorkerPool } from '../../src/jobs/create-csv-worker-pool.ts';
import { openDirectChannel } from '../../src/workers/direct-channel.ts';

const config = loadConfig({ INPUT_BUCKET: 'ingest', WORKER_THREADS: '1', CSV_BLOCK_BYTES: '65536' });
// The parse pool alone is used: no job thread starts, and nothing connects to this endpoint.
const pool = createCsvWorkerPool(config, [], {
  endpoint: 'http://127.0.0.1:9',
  region: 'us-east-1',
  forcePathStyle: true,
  checksums: 'WHEN_REQUIRED',
});
const context = {
  pipeline: DEFAULT_PIPELINE,
  delimiter: ',',
  maxRecordBytes: 1024,
  index: 0,
  offset: 0,
  last: true,
  key: 'k',
};
const parse = async (bytes: Buffer) => {
  const channel = openDirectChannel(bytes, [bytes.buffer as ArrayBuffer]);
  try {
    return await pool.parsePool.run({ port: channel.port, context }, { transfer: [channel.port] });
  } finally {
    channel.close();
  }
};
// The parse thread starts (and loads its code) first; with a buffer of its own (a pooled one cannot move).
const warmUp = Buffer.allocUnsafeSlow(8);
warmUp.write('a,b\n1,2\n');
await parse(warmUp);
// 48 MiB, under the 64 MB of new external memory at which V8 would collect that thread by itself; the parse
// stops at line 2 (a record over maxRecordBytes), so the thread makes little else.
const block = Buffer.alloc(48 * 1024 * 1024, '1,2\n');
block.write(`a,b\n${'x'.repeat(2000)}\n`);
const rssMb = () => process.memoryUsage().rss / 1024 / 1024;
let highest = rssMb();
let dropMb = 0;
const result = await parse(block);
for (const deadline = Date.now() + 5_000; Date.now() < deadline && dropMb < 40;) {
  await new Promise((resolve) => setTimeout(resolve, 20));
  const now = rssMb();
  highest = Math.max(highest, now);
  dropMb = Math.max(dropMb, highest - now);
}
await pool.close();
console.log(JSON.stringify({ errorLine: result.error?.line, dropMb: Math.round(dropMb) }));
