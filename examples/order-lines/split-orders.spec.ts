import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { loadPipelines } from '../../src/csv/load-pipelines.ts';
import { runPipelineOnText } from '../../src/jobs/run-pipeline-on-text.ts';

const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));

describe('examples/order-lines', () => {
  it('should write one row per item, drop orders without items and reject items it cannot read', async () => {
    const [pipeline] = await loadPipelines(here('pipelines.json'));
    const { rows, rejects, manifest } = await runPipelineOnText(pipeline!, await readFile(here('orders.csv'), 'utf8'));
    expect(rows).to.deep.equal([
      { order_id: 1001, sku: 'A-1', quantity: 2, line: 2 },
      { order_id: 1001, sku: 'B-7', quantity: 1, line: 2 },
      { order_id: 1002, sku: 'C-3', quantity: 10, line: 3 },
      { order_id: 1005, sku: 'B-7', quantity: 1, line: 6 },
      { order_id: 1005, sku: 'C-3', quantity: 4, line: 6 },
    ]);
    expect(rejects.map(({ line, reason }) => [line, reason])).to.deep.equal([
      [5, 'items: "A-1 x two" is not "SKU x quantity"'],
    ]);
    expect(manifest).to.include({ rows: 5, rejected: 1, dropped: 1 });
  });
});
