// A child-process entry: the embedded S3 server alone, for specs and the benchmark that
// need S3 in another process (stopped, killed, restarted on the same data). It runs
// s3rver in this process itself (as startEmbeddedS3's child does), so a restart is one start.
// Env: S3_PORT (0: any), S3_DIR, S3_BUCKETS (comma-separated). Prints one JSON line {"endpoint"}.
import { EMBEDDED_S3_CREDENTIALS } from '../../src/storage/embedded-s3.ts';
import { serveS3rver } from '../../src/storage/serve-s3rver.ts';

const host = '127.0.0.1';
const server = await serveS3rver({
  port: Number(process.env['S3_PORT'] ?? '0'),
  host,
  directory: process.env['S3_DIR'] ?? '.s3',
  buckets: (process.env['S3_BUCKETS'] ?? 'ingest').split(','),
  credentials: EMBEDDED_S3_CREDENTIALS,
});
process.stdout.write(`${JSON.stringify({ endpoint: `http://${host}:${server.port}`, port: server.port })}\n`);
const stop = () => void server.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
