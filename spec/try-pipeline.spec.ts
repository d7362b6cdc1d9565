import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run try -- …args`, as a child process. */
function tryPipeline(...args: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/try-pipeline.ts', ...args], (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr });
    });
  });
}

describe('npm run try (src/try-pipeline.ts)', function () {
  this.timeout(30_000);
  const orders = ['examples/order-lines/orders.csv', '--pipelines', 'examples/order-lines/pipelines.json'];
  let out: string;
  before(async () => {
    out = await mkdtemp(path.join(os.tmpdir(), 'try-pipeline-'));
  });
  after(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('should print the first rows, the rejects with their lines and reasons, and the counts', async () => {
    const { code, stdout } = await tryPipeline(...orders, '--key', 'orders/2024/02.csv', '--rows', '2');
    expect(code).to.equal(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).to.equal(
      'pipeline "order-lines" (examples/order-lines/split-orders.ts) on examples/order-lines/orders.csv',
    );
    expect(lines.slice(1, 6)).to.deep.equal([
      'first rows:',
      '  {"order_id":1001,"sku":"A-1","quantity":2,"line":2}',
      '  {"order_id":1001,"sku":"B-7","quantity":1,"line":2}',
      'rejects:',
      '  line 5 (record 4): items: "A-1 x two" is not "SKU x quantity"',
    ]);
    expect(lines[6]).to.match(/^5 rows, 1 rejected, 1 dropped · 1 block · \d+ ms$/);
  });

  it('should write rows.ndjson, rejects.ndjson and manifest.json with --out', async () => {
    const { code } = await tryPipeline(...orders, '--pipeline', 'order-lines', '--out', out);
    expect(code).to.equal(0);
    const rows = await readFile(path.join(out, 'rows.ndjson'), 'utf8');
    expect(rows.trimEnd().split('\n')).to.have.length(5);
    const rejects = JSON.parse(await readFile(path.join(out, 'rejects.ndjson'), 'utf8')) as Record<string, unknown>;
    expect(rejects).to.deep.equal({
      line: 5,
      record: 4,
      reason: 'items: "A-1 x two" is not "SKU x quantity"',
      raw: '1004,Barbara,A-1 x two',
    });
    const manifest = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).to.include({ pipeline: 'order-lines', rows: 5, rejected: 1, dropped: 1, blocks: 1 });
    expect(manifest['outputs']).to.deep.include({ rows: { key: 'rows.ndjson', size: Buffer.byteLength(rows) } });
  });

  it('should say when no pipeline matches the file, and run the default one', async () => {
    const { code, stdout } = await tryPipeline(...orders);
    expect(code).to.equal(0);
    expect(stdout).to.include('pipeline "default" on examples/order-lines/orders.csv');
    expect(stdout).to.include('no pipeline matches the key examples/order-lines/orders.csv');
  });

  it('should exit 1 with one line for a missing file, an unknown pipeline or a failed run', async () => {
    expect(await tryPipeline('examples/nope.csv')).to.deep.equal({
      code: 1,
      stdout: '',
      stderr: 'try: cannot read examples/nope.csv: no such file\n',
    });
    expect(await tryPipeline(...orders, '--pipeline', 'nope')).to.deep.equal({
      code: 1,
      stdout: '',
      stderr: 'try: no pipeline named "nope" in examples/order-lines/pipelines.json; defined: order-lines, default\n',
    });
    const unterminated = path.join(out, 'unterminated.csv');
    await writeFile(unterminated, 'a,b\n1,2\n3,"never closed\n');
    expect(await tryPipeline(unterminated)).to.deep.include({
      code: 1,
      stderr: 'Unterminated quoted field: the record starting at line 3 opens a quote that is never closed.\n',
    });
  });
});
