import { expect } from 'chai';
import { runPipelineOnText } from '../../src/jobs/run-pipeline-on-text.ts';
import type { Transform } from '../../src/csv/transform.ts';

const numbered: Transform = (row, { line, record, key, reject }) =>
  row['n'] === 3 ? reject('three') : row['n'] === 4 ? null : { ...row, line, record, key };

describe('runPipelineOnText', () => {
  const pipeline = { name: 'numbers', columns: { n: 'integer' as const }, transform: numbered };
  const text = 'n,s\n1,"a\nb"\n2,x\n\n3,y\n4,z\n5,w\n';

  it('should run a transform given as a function, with lines, records and the key', async () => {
    const { rows, rejects, manifest } = await runPipelineOnText(pipeline, text, { key: 'in/n.csv' });
    expect(rows).to.deep.equal([
      { n: 1, s: 'a\nb', line: 2, record: 1, key: 'in/n.csv' },
      { n: 2, s: 'x', line: 4, record: 2, key: 'in/n.csv' },
      { n: 5, s: 'w', line: 8, record: 5, key: 'in/n.csv' },
    ]);
    expect(rejects).to.deep.equal([{ line: 6, record: 3, reason: 'three', raw: '3,y' }]);
    expect(manifest).to.include({ pipeline: 'numbers', rows: 3, rejected: 1, dropped: 1, blocks: 1 });
  });

  it('should give the same outputs cut into many blocks', async () => {
    const long = `n,s\n${text.slice('n,s\n'.length).repeat(20)}`;
    const whole = await runPipelineOnText(pipeline, long, { blockBytes: 0 });
    const cut = await runPipelineOnText(pipeline, long, { blockBytes: 8 });
    expect(whole.rows).to.have.length(60);
    expect(cut.manifest.blocks).to.be.greaterThan(10);
    expect({ rows: cut.rows, rejects: cut.rejects }).to.deep.equal({ rows: whole.rows, rejects: whole.rejects });
  });

  it('should reject with transform_failed when the transform throws', async () => {
    const failing = { name: 'f', transform: () => JSON.parse('{') as never };
    const error = await runPipelineOnText(failing, 'a\n1\n').catch((e: unknown) => e);
    expect(error).to.have.property('code', 'transform_failed');
    expect((error as Error).message).to.match(
      /^The transform transform \(inline\) of pipeline "f" failed at line 2: SyntaxError/,
    );
  });
});
