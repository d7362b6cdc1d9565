// node --import tsx bench/naive-peer.ts ENDPOINT BUCKET KEY OUT_KEY: the seed's way of doing a
// job, as the baseline the service is compared with: GetObject → csv-parse `columns: true` →
// JSON.stringify per record → lib-storage Upload at its defaults, one pass on one thread, no
// validation. The S3 client is the service's own (same checksum and socket settings), so only
// the pipeline differs. Prints {"seconds": …, "cpuSeconds": …, "records": …}.
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { parse } from 'csv-parse';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createS3Client } from '../src/storage/create-s3-client.ts';

const [endpoint, bucket, key, outKey] = process.argv.slice(2);
if (endpoint === undefined || bucket === undefined || key === undefined || outKey === undefined)
  throw new Error('usage: naive-peer.ts ENDPOINT BUCKET KEY OUT_KEY');
const client = createS3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, checksums: 'WHEN_REQUIRED' });
const started = performance.now();
const cpuBefore = process.cpuUsage();
let records = 0;
const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
const body = new PassThrough();
const upload = new Upload({ client, params: { Bucket: bucket, Key: outKey, Body: body } });
const toJson = new Transform({
  writableObjectMode: true,
  transform(record: Record<string, string>, _encoding, callback) {
    records += 1;
    callback(null, `${JSON.stringify(record)}\n`);
  },
});
await Promise.all([pipeline(object.Body as Readable, parse({ columns: true }), toJson, body), upload.done()]);
const cpu = process.cpuUsage(cpuBefore);
console.log(
  JSON.stringify({ seconds: (performance.now() - started) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, records }),
);
client.destroy();
