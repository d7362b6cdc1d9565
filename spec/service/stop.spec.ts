import { PutObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import { filter, firstValueFrom, NEVER } from 'rxjs';
import { startTestService } from '../helpers/test-service.ts';

describe('Service.stop', function () {
  this.timeout(30_000);

  it('should turn /readyz 503 and refuse triggers and uploads with 503 while running jobs get their grace period', async () => {
    const svc = await startTestService({
      env: { SHUTDOWN_TIMEOUT_MS: '1500' },
      embeddedS3Events: false,
      runJob: () => () => NEVER,
    });
    await svc.service.s3.send(new PutObjectCommand({ Bucket: 'ingest', Key: 'stop/a.csv', Body: 'a\n1\n' }));
    const started = firstValueFrom(svc.service.events$.pipe(filter((e) => e.type === 'started')));
    const trigger = () =>
      svc.fetch('/v1/trigger', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ key: 'stop/a.csv', versionId: 'v1' }),
      });
    expect((await trigger()).status).to.equal(202);
    await started;

    const stopping = svc.service.stop();
    const stoppedAt = Date.now();
    const ready = await fetch(new URL('/readyz', svc.url));
    expect(ready.status).to.equal(503);
    expect(await ready.json()).to.deep.equal({ status: 'not_ready', problems: ['The service is shutting down.'] });

    const refused = await svc.fetch('/v1/trigger', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: 'stop/a.csv', versionId: 'v2' }),
    });
    expect(refused.status).to.equal(503);
    expect(refused.headers.get('retry-after')).to.equal('5');
    expect(((await refused.json()) as { error: { code: string } }).error.code).to.equal('shutting_down');

    const form = new FormData();
    form.append('file', new Blob(['a\n1\n']), 'a.csv');
    const upload = await svc.fetch('/v1/uploads', { method: 'POST', body: form });
    expect(upload.status).to.equal(503);
    expect(((await upload.json()) as { error: { code: string } }).error.code).to.equal('shutting_down');

    await stopping;
    expect(Date.now() - stoppedAt, 'waited for the grace period, not longer than needed').to.be.within(1400, 6000);
    expect(
      svc
        .logs()
        .some(
          (line) =>
            line['message'] === 'jobs still running at the end of the grace period were stopped and left queued',
        ),
    ).to.equal(true);
    await rm(svc.dataDir, { recursive: true, force: true });
  });
});
