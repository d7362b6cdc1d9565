import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { createMetrics } from '../../src/metrics/create-metrics.ts';

const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
const authors = await readFile(new URL('../../docs/pipeline-authors.md', import.meta.url), 'utf8');

function section(name: string, text = readme): string {
  const start = text.indexOf(`<!-- ${name}:start -->`);
  const end = text.indexOf(`<!-- ${name}:end -->`);
  expect(start, `section ${name}`).to.be.greaterThan(-1);
  expect(end, `end of section ${name}`).to.be.greaterThan(start);
  return text.slice(start + `<!-- ${name}:start -->`.length, end);
}

describe('README and docs/ examples', () => {
  it('should show in docs/pipeline-authors.md each example file as it is, in under 30 lines', async () => {
    const examples = [...authors.matchAll(/<!-- example: (\S+) -->\n```\w+\n([\s\S]*?)```\n/g)];
    expect(examples.map((example) => example[1])).to.deep.equal([
      'examples/iot-readings/readings.ts',
      'examples/iot-readings/pipelines.json',
      'examples/iot-readings/readings.spec.ts',
      'dry-run',
      'spec/docs/retry-marbles.spec.ts',
    ]);
    for (const [, file, shown] of examples) {
      expect(shown!.split('\n').length - 1, file).to.be.below(30);
      if (file !== 'dry-run')
        expect(shown, file).to.equal(await readFile(new URL(`../../${file}`, import.meta.url), 'utf8'));
    }
  });

  it('should print what docs/pipeline-authors.md shows for the dry run', async function () {
    this.timeout(30_000);
    const [command, ...shown] = /<!-- example: dry-run -->\n```sh\n([\s\S]*?)```\n/
      .exec(authors)![1]!
      .trimEnd()
      .split('\n');
    const args = command!.replace('$ npm run try -- ', '').split(' ');
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/try-pipeline.ts', ...args]);
    const masked = (lines: string) => lines.replace(/\d+ ms$/m, 'N ms');
    expect(masked(stdout.trimEnd())).to.equal(masked(shown.join('\n')));
  });

  it('should list every metric of the service, with its type and labels, and no other', async () => {
    const metrics = createMetrics({ queueDepth: () => 0, defaultMetrics: false });
    const registered = (await metrics.registry.getMetricsAsJSON()).map((metric) => [
      metric.name,
      metric.type,
      [
        ...new Set(
          (metric.values as { labels: Record<string, unknown> }[]).flatMap((value) => Object.keys(value.labels)),
        ),
      ],
    ]);
    const documented = [...section('metrics').matchAll(/^\| `(\w+)` \| (\w+) \|([^|]*)\|/gm)].map((match) => [
      match[1],
      match[2],
    ]);
    expect(documented).to.have.deep.members(registered.map(([name, type]) => [name, type]));
    for (const metric of metrics.registry.getMetricsAsArray()) {
      const labels = (metric as unknown as { labelNames: string[] }).labelNames;
      const row = section('metrics')
        .split('\n')
        .find((line) => line.startsWith(`| \`${metric.name}\` |`))!;
      for (const label of labels) expect(row, `${metric.name} label ${label}`).to.include(`\`${label}\``);
    }
  });
});
