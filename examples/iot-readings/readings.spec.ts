import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { loadPipelines } from '../../src/csv/load-pipelines.ts';
import { runPipelineOnText } from '../../src/jobs/run-pipeline-on-text.ts';

const here = (name: string) => new URL(name, import.meta.url);

describe('examples/iot-readings', () => {
  it('should convert °F to °C, drop test devices and reject what the types cannot express', async () => {
    const [pipeline] = await loadPipelines(here('pipelines.json').pathname);
    const csv = await readFile(here('readings.csv'), 'utf8');
    const { rows, rejects, manifest } = await runPipelineOnText(pipeline!, csv);
    expect(rows[0]).to.deep.equal({
      timestamp: '2024-02-12T08:00:00.000Z',
      device_id: 'greenhouse-1',
      temp_c: 20.5,
      battery: 87,
    });
    expect(rows.map((row) => row['temp_c'])).to.deep.equal([20.5, 20.61, -20, -19.78]);
    expect(rejects.map(({ line, reason }) => [line, reason])).to.deep.equal([
      [4, 'temp_f: a reading needs a temperature'],
      [7, 'column "temp_f": expected a number, found "warm"'],
      [8, "temp_f: 451 is outside the sensor's range"],
    ]);
    expect(manifest).to.include({ rows: 4, rejected: 3, dropped: 1 });
  });
});
