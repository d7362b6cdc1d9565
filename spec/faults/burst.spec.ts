import { PutObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { startTestService, type TestService } from '../helpers/test-service.ts';
import { eventually } from './fault-fixture.ts';

const TRIGGERS = 2000;

describe('a burst of triggers against a small queue', function () {
  this.timeout(240_000);
  let svc: TestService;

  before(async () => {
    svc = await startTestService({
      env: { QUEUE_CAPACITY: '100', JOB_CONCURRENCY: '2', LOG_LEVEL: 'warn' },
      embeddedS3Events: false,
    });
    for (let i = 0; i < TRIGGERS; i += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, j) =>
          svc.service.s3.send(
            new PutObjectCommand({
              Bucket: 'ingest',
              Key: `burst/${i + j}.csv`,
              Body: `id,value\n${i + j},x\n`,
            }),
          ),
        ),
      );
    }
  });
  after(async () => svc.stop());

  it('should answer each of 2,000 triggers 202 or 429 and nothing else, and complete every accepted job', async () => {
    const statuses = new Map<number, number>();
    const accepted: string[] = [];
    // How the refused triggers were answered, each way once.
    const refusals = new Set<string>();
    for (let i = 0; i < TRIGGERS; i += 200) {
      const answers = await Promise.all(
        Array.from({ length: 200 }, async (_, j) => {
          const response = await svc.fetch('/v1/trigger', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ key: `burst/${i + j}.csv` }),
          });
          const body = (await response.json()) as { jobs?: { id: string }[]; error?: { code: string } };
          return {
            status: response.status,
            id: body.jobs?.[0]?.id,
            refusal: `${body.error?.code} after ${response.headers.get('retry-after')} s`,
          };
        }),
      );
      for (const { status, id, refusal } of answers) {
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status === 202) accepted.push(id!);
        else refusals.add(refusal);
      }
    }
    const ok = statuses.get(202) ?? 0;
    const refused = statuses.get(429) ?? 0;
    expect(
      [...statuses.keys()].filter((status) => status !== 202 && status !== 429),
      JSON.stringify([...statuses]),
    ).to.deep.equal([]);
    expect(ok + refused).to.equal(TRIGGERS);
    expect(refused, 'the queue refused some').to.be.greaterThan(0);
    expect([...refusals]).to.deep.equal(['queue_full after 5 s']);

    await eventually(
      async () => {
        const page = (await (await svc.fetch('/v1/jobs?status=succeeded&limit=1000')).json()) as {
          jobs: unknown[];
          next: string | null;
        };
        let count = page.jobs.length;
        let next = page.next;
        while (next !== null) {
          const more = (await (await svc.fetch(`/v1/jobs?status=succeeded&limit=1000&cursor=${next}`)).json()) as {
            jobs: unknown[];
            next: string | null;
          };
          count += more.jobs.length;
          next = more.next;
        }
        return count === accepted.length ? true : undefined;
      },
      200_000,
      'every accepted job to succeed',
    );
    const failed = (await (await svc.fetch('/v1/jobs?status=failed')).json()) as { jobs: unknown[] };
    expect(failed.jobs).to.deep.equal([]);
    console.log(`      burst: ${ok} accepted, ${refused} refused with 429`);
  });
});
