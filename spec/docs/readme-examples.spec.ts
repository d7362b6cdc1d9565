import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
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
  it('should show spec/docs/custom-pipeline.spec.ts verbatim in docs/pipeline-authors.md, so the example it shows runs in the suite', async () => {
    const spec = await readFile(new URL('./custom-pipeline.spec.ts', import.meta.url), 'utf8');
    const block = /^\n```ts\n([\s\S]*)```\n$/.exec(section('custom-pipeline', authors));
    expect(block, 'one ```ts block').not.to.equal(null);
    expect(block![1]).to.equal(spec);
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
