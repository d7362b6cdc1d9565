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

  describe('with a transform module', () => {
    const pipelinesWith = async (name: string, module: string, source: string | undefined) => {
      const sub = await mkdtemp(path.join(dir, 'transform-'));
      if (source !== undefined) await writeFile(path.join(sub, module), source);
      const file = path.join(sub, `${name}.json`);
      await writeFile(file, JSON.stringify({ pipelines: [{ name, transform: `./${module}` }] }));
      return { file, module: path.join(sub, module) };
    };

    it('should make the path absolute from the file, having loaded the module (.ts and .js)', async () => {
      for (const module of ['ok.ts', 'ok.js']) {
        const written = await pipelinesWith('good', module, 'export function transform(row) { return row; }\n');
        const [pipeline] = await loadPipelines(written.file);
        expect(pipeline?.transform, module).to.equal(written.module);
      }
    });

    it('should stop the start with one line naming the pipeline and the module when it does not load', async () => {
      for (const [source, problem] of [
        [undefined, 'cannot be loaded'],
        ['export function transform(row {\n  return row;\n}\n', 'cannot be loaded'],
        ['throw new Error("no config here");\n', 'no config here'],
        ['export const transform = 42;\n', 'does not export a function named "transform"'],
      ] as const) {
        const written = await pipelinesWith('readings', 'readings.ts', source);
        const error = await loadPipelines(written.file).catch((e: unknown) => e);
        expect(error, problem).to.have.property('code', 'config_invalid');
        const { message } = error as Error;
        expect(message, problem)
          .to.include(`PIPELINES_FILE (${written.file})`)
          .and.include('pipeline "readings"')
          .and.include(written.module)
          .and.include(problem);
        expect(message, problem).not.to.include('\n');
      }
    });

    it('should refuse a transform that is not a .ts or .js module', async () => {
      const file = path.join(dir, 'not-module.json');
      await writeFile(file, JSON.stringify({ pipelines: [{ name: 'iot', transform: './readings.py' }] }));
      const error = await loadPipelines(file).catch((e: unknown) => e);
      expect(error).to.have.property('code', 'config_invalid');
      expect((error as Error).message).to.include(
        'pipeline "iot" (pipelines[0]) transform: expected the path of a .ts or .js module',
      );
    });
  });
});
