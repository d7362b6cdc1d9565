// A child-process entry: the embedded S3 server alone, for specs and the benchmark that
// need S3 in another process (stopped, killed, restarted on the same data).
// Env: S3_PORT (0: any), S3_DIR, S3_BUCKETS (comma-separated). Prints one JSON line {"endpoint"}.
import { startEmbeddedS3 } from '../../src/storage/embedded-s3.ts';

const server = await startEmbeddedS3({
  port: Number(process.env['S3_PORT'] ?? '0'),
  directory: process.env['S3_DIR'] ?? '.s3',
  buckets: (process.env['S3_BUCKETS'] ?? 'ingest').split(','),
});
process.stdout.write(`${JSON.stringify({ endpoint: server.endpoint, port: server.port })}\n`);
const stop = () => void server.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
