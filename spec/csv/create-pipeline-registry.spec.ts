import { expect } from 'chai';
import { createPipelineRegistry } from '../../src/csv/create-pipeline-registry.ts';
import { DEFAULT_PIPELINE } from '../../src/csv/default-pipeline.ts';
import { parsePipelines } from '../../src/csv/parse-pipelines.ts';

describe('createPipelineRegistry', () => {
  const registry = createPipelineRegistry(
    parsePipelines({
      pipelines: [
        { name: 'iot', match: 'iot/**/*.csv*' },
        { name: 'iot-all', match: 'iot/**' },
        { name: 'by-name-only' },
      ],
    }),
  );

  it('should match keys by glob, the first match winning', () => {
    expect(registry.forKey('iot/2024/02/12.csv').name).to.equal('iot');
    expect(registry.forKey('iot/2024/02/12.csv.gz').name).to.equal('iot');
    expect(registry.forKey('iot/2024/02/12.tsv').name).to.equal('iot-all');
    expect(registry.forKey('iot/.hidden/a.csv').name).to.equal('iot');
  });

  it('should fall back to the default pipeline: header, detected delimiter, strings', () => {
    const fallback = registry.forKey('other/a.csv');
    expect(fallback).to.equal(DEFAULT_PIPELINE);
    expect(fallback).to.deep.equal({
      name: 'default',
      csv: { quote: '"', header: true, encoding: 'utf8', skipLines: 0, invalidUtf8: 'reject' },
      columns: {},
      maxRejected: null,
    });
  });

  it('should find pipelines by name, the default included', () => {
    expect(registry.byName('by-name-only')?.name).to.equal('by-name-only');
    expect(registry.byName('default')).to.equal(DEFAULT_PIPELINE);
    expect(registry.byName('nope')).to.equal(undefined);
    expect(registry.names()).to.deep.equal(['iot', 'iot-all', 'by-name-only', 'default']);
  });

  it('should let a definition named default replace the built-in one', () => {
    const custom = createPipelineRegistry(
      parsePipelines({ pipelines: [{ name: 'default', csv: { delimiter: ';' } }] }),
    );
    expect(custom.forKey('x.csv').csv.delimiter).to.equal(';');
    expect(custom.byName('default')?.csv.delimiter).to.equal(';');
    expect(custom.names()).to.deep.equal(['default']);
  });
});
