import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startChild, startServiceProcess } from './helpers/child-process.ts';

describe('main (the service process)', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 's3-csv-ingest-main-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('should stop a bad PIPELINES_FILE with one line naming it, and no stack trace', async () => {
    const file = path.join(dir, 'pipelines.json');
    await writeFile(file, JSON.stringify({ pipelines: [{ name: 'iot', csv: { skipLines: -1 } }] }));
    const child = startChild('src/main.ts', {
      PIPELINES_FILE: file,
      DATA_DIR: dir,
      PORT: '0',
      EMBEDDED_S3_PORT: '0',
      LOG_FORMAT: 'json',
    });
    const exit = await child.exited;
    expect(exit.code).to.equal(1);
    const lines = child.stderr().trim().split('\n');
    expect(lines, child.stderr()).to.have.length(1);
    expect(lines[0])
      .to.match(/^s3-csv-ingest failed to start: .*PIPELINES_FILE/)
      .and.include('csv.skipLines');
  });

  it('should say once that the Node.js version is old, log "stopped" last on SIGTERM, and exit 0', async () => {
    // The suite silences the SDK's notice for itself (spec/helpers/setup.ts); this process starts as an operator's
    // would.
    const service = await startServiceProcess({
      DATA_DIR: dir,
      JOB_CONCURRENCY: '2',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: '',
    });
    const trigger = await fetch(`${service.url}/v1/trigger`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"key":"missing.csv"}',
    });
    expect(trigger.status, 'the S3 client answered a HEAD').to.equal(404);
    service.process.kill('SIGTERM');
    expect((await service.exited).code).to.equal(0);

    const oldNode = Number(process.versions.node.split('.')[0]) < 22;
    const ourWarning = service.lines().filter((line) => /is past its end of life/.test(String(line['message'])));
    expect(ourWarning, 'one line of our own on Node < 22, none on 22').to.have.length(oldNode ? 1 : 0);
    expect(service.stderr()).not.to.include('NodeVersionSupportWarning');
    expect(service.lines().at(-1)).to.include({ level: 'info', message: 'stopped', signal: 'SIGTERM' });
  });
});
