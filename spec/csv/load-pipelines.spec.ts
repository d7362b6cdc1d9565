import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadPipelines } from '../../src/csv/load-pipelines.ts';

describe('loadPipelines', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pipelines-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('should give no definitions without a file', async () => {
    expect(await loadPipelines(undefined)).to.deep.equal([]);
  });

  it('should read and validate the file', async () => {
    const file = path.join(dir, 'ok.json');
    await writeFile(file, JSON.stringify({ pipelines: [{ name: 'iot', match: 'iot/**' }] }));
    const pipelines = await loadPipelines(file);
    expect(pipelines.map((p) => p.name)).to.deep.equal(['iot']);
  });

  it('should fail with config_invalid naming the file, the pipeline and the field', async () => {
    const file = path.join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ pipelines: [{ name: 'iot', csv: { skipLines: -1 } }] }));
    const error = await loadPipelines(file).catch((e: unknown) => e);
    expect(error).to.have.property('code', 'config_invalid');
    expect((error as Error).message)
      .to.include(`PIPELINES_FILE (${file})`)
      .and.include('pipeline "iot" (pipelines[0]) csv.skipLines');
  });

  it('should fail with config_invalid on a missing file or bad JSON', async () => {
    const missing = await loadPipelines(path.join(dir, 'nope.json')).catch((e: unknown) => e);
    expect(missing).to.have.property('code', 'config_invalid');
    expect((missing as Error).message).to.include('cannot read');
    const file = path.join(dir, 'broken.json');
    await writeFile(file, '{"pipelines": [');
    const broken = await loadPipelines(file).catch((e: unknown) => e);
    expect((broken as Error).message).to.include('is not JSON');
  });
});
