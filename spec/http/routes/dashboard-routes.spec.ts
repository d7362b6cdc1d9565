import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { mkdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { defer, NEVER, throwError, type Observable } from 'rxjs';
import { AppError } from '../../../src/errors.ts';
import type { Config } from '../../../src/config/config.ts';
import type { Job, JobProgress, JobRunResult } from '../../../src/jobs/job.ts';
import type { RunUpdate } from '../../../src/pipeline/job-event.ts';
import { openHeadlessPage, type HeadlessPage } from '../../helpers/headless-page.ts';
import { charactersWidth, layoutProblems } from '../../helpers/layout-problems.ts';
import { postTrigger } from '../../helpers/post-trigger.ts';
import { startTestService, waitForJob, type TestService } from '../../helpers/test-service.ts';

/** A long message with a long unbroken name in it, as real parse errors have. */
const FAILING_KEY = 'fail/2024/sensor-exports/north-field/2024-01-04-hourly-readings.csv';
const LONG_ERROR = `Record 3 of s3://ingest/${FAILING_KEY} has 4 fields where the header has 3: the quote opened at line 3, column 12 never closes, so the rest of the file was read as one field. Check the quoting on that line.`;

/**
 * A job by key prefix: `ok/` writes its outputs and succeeds, `fail/` fails with LONG_ERROR, anything else runs until
 * cancelled.
 */
function scriptedJob({ s3, config }: { s3: TestService['service']['s3']; config: Config }) {
  return (job: Job): Observable<RunUpdate<JobProgress, JobRunResult>> => {
    if (job.source.key.startsWith('fail/')) return throwError(() => new AppError('csv_invalid', LONG_ERROR));
    if (!job.source.key.startsWith('ok/')) return NEVER;
    return defer(async () => {
      const base = `${config.buckets.outputPrefix}${job.source.key}/`;
      const output = {
        bucket: config.buckets.output,
        rows: `${base}rows.ndjson`,
        rejects: `${base}rejects.ndjson`,
        manifest: `${base}manifest.json`,
      };
      for (const [key, body] of [
        [output.rows, '{"a":"1"}\n'],
        [output.rejects, new Uint8Array(0)],
        [output.manifest, '{}'],
      ] as const) {
        await s3.send(new PutObjectCommand({ Bucket: output.bucket, Key: key, Body: body }));
      }
      return { kind: 'done' as const, result: { output } };
    });
  };
}

const ARTIFACTS = path.resolve(import.meta.dirname, '../../../artifacts');
const TOKEN = 'dashboard-token';
const CSV = 'name,city\nAda,London\nGrace,New York\nLinus,Helsinki,extra\n';

describe('dashboard (headless Chromium)', function () {
  this.timeout(60_000);
  let browser: HeadlessPage;
  let page: Page;
  let problems: string[];

  before(async function () {
    browser = await openHeadlessPage();
    ({ page, problems } = browser);
  });

  after(async () => {
    await browser?.close();
  });

  describe('with an API token, the CSV job as it ships', () => {
    let svc: TestService;

    before(async () => {
      // The service as it ships: the CSV job in worker threads, uploads into the embedded S3.
      svc = await startTestService({ env: { API_TOKEN: TOKEN, JOB_CONCURRENCY: '2' }, embeddedS3Events: false });
    });
    after(async () => svc?.stop());

    it('should serve the page with a CSP and no inline script', async () => {
      const response = await fetch(new URL('/', svc.url));
      expect(response.status).to.equal(200);
      expect(response.headers.get('content-security-policy')).to.include("script-src 'self'");
      const html = await response.text();
      expect(html).not.to.match(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect((await fetch(new URL('/assets/app.js', svc.url))).headers.get('content-type')).to.match(
        /^text\/javascript/,
      );
      expect((await fetch(new URL('/assets/secret.txt', svc.url))).status).to.equal(404);
    });

    it('should take a token, upload a CSV with progress, show it succeed live, and download its rows', async () => {
      const started = performance.now();
      await page.goto(`${svc.url}/`);
      await page.locator('#connection', { hasText: 'Live updates: token needed' }).waitFor();
      expect(await page.locator('#token-section').isVisible()).to.be.true;
      expect(await page.locator('#token-status').textContent()).to.equal(
        'Token needed: this service asks for its API token.',
      );

      // Keyboard only: type a wrong token and submit it with Enter; it is refused, not "needed".
      await page.locator('#token').focus();
      await page.keyboard.type('not-the-token');
      await page.keyboard.press('Enter');
      await page.locator('#connection', { hasText: 'Live updates: token refused' }).waitFor();
      expect(await page.locator('#token-status').textContent()).to.match(/^Token refused: /);
      await page.setViewportSize({ width: 400, height: 800 }); // the token form fits a phone too
      expect((await layoutProblems(page)).overflowing).to.deep.equal([]);
      await page.setViewportSize({ width: 1280, height: 800 });

      await page.fill('#token', '');
      await page.locator('#token').focus();
      await page.keyboard.type(TOKEN);
      await page.keyboard.press('Enter');
      await page.locator('#connection', { hasText: 'Live updates: on' }).waitFor();
      await page.locator('#token-status', { hasText: 'Token accepted.' }).waitFor();
      await page.locator('#jobs-count', { hasText: '0 jobs shown.' }).waitFor();
      // Browser-side code is passed as text: the specs compile without the DOM types.
      expect(await page.evaluate("sessionStorage.getItem('s3-csv-ingest.token')")).to.equal(TOKEN);
      problems.length = 0; // the 401s asked for the token; from here on the console stays clean

      await page.setInputFiles('#file', { name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
      await page.fill('#key', 'dashboard/people.csv');
      await page.click('#upload-button');
      await page.locator('#upload-status', { hasText: 'Stored s3://ingest/dashboard/people.csv' }).waitFor();
      expect(await page.locator('#upload-progress').getAttribute('value')).to.equal('100');

      const row = page.locator('tr', { has: page.locator('code', { hasText: 'dashboard/people.csv' }) });
      await row.locator('.status', { hasText: 'succeeded' }).waitFor();
      expect(await row.locator('td.col-rows').textContent()).to.equal('2');
      expect(await row.locator('td.col-rejects').textContent()).to.equal('1');
      expect(await row.locator('.status').textContent()).to.equal('✓ succeeded'); // a word, not only a colour
      expect(await page.locator('#jobs-count').textContent()).to.equal('1 job shown.');

      const [download] = await Promise.all([
        page.waitForEvent('download'),
        row.locator('button[data-output="rows"]').click(),
      ]);
      const saved = await download.path();
      const lines = (await readFile(saved, 'utf8'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as unknown);
      expect(lines).to.deep.equal([
        { name: 'Ada', city: 'London' },
        { name: 'Grace', city: 'New York' },
      ]);
      expect(download.suggestedFilename()).to.equal('people.csv.rows.ndjson');

      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });
      console.log(
        `      (browser flow: ${Math.round(performance.now() - started)} ms; screenshot in artifacts/dashboard.png)`,
      );
    });

    it("should take a dropped file, and show a failed job's error", async () => {
      await page.evaluate(`(() => {
        const transfer = new DataTransfer();
        transfer.items.add(new File(['a,"b\\n1,2\\n'], 'broken.csv', { type: 'text/csv' }));
        document.getElementById('drop-zone').dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      })()`);
      await page.locator('#file-name', { hasText: 'broken.csv' }).waitFor();
      await page.fill('#key', 'dashboard/broken.csv');
      await page.locator('#upload-button').focus();
      await page.keyboard.press('Enter');
      const row = page.locator('tr', { has: page.locator('code', { hasText: 'dashboard/broken.csv' }) });
      await row.locator('.status', { hasText: 'failed' }).waitFor();
      expect(await row.locator('td.col-error').textContent()).to.match(/^csv_invalid: /);
      expect(await row.locator('button[data-output]').count()).to.equal(0);
      expect(await page.locator('#jobs-count').textContent()).to.equal('2 jobs shown.');
      expect(problems).to.deep.equal([]);
    });

    it('should run a failed job again as a new job, from its "Run again" button', async () => {
      const rows = page.locator('tr', { has: page.locator('code', { hasText: 'dashboard/broken.csv' }) });
      const [request] = await Promise.all([
        page.waitForRequest((candidate) => candidate.url().endsWith('/v1/trigger')),
        rows.locator('button', { hasText: 'Run again' }).click(),
      ]);
      expect(request.method()).to.equal('POST');
      expect(request.postDataJSON()).to.deep.equal({
        bucket: 'ingest',
        key: 'dashboard/broken.csv',
        pipeline: 'default',
        force: true,
      });
      await page.locator('#jobs-status', { hasText: 'Running dashboard/broken.csv again: new job ' }).waitFor();
      // A failed job is no duplicate: the new one shows above the old one, and fails the same way.
      await rows.nth(1).waitFor();
      await rows.nth(0).locator('.status', { hasText: 'failed' }).waitFor();
      expect(await page.locator('#jobs-count').textContent()).to.equal('3 jobs shown.');
      expect(problems).to.deep.equal([]);
    });

    it('should run a succeeded job again with force: a new job above the old one, which succeeds too', async () => {
      const rows = page.locator('tr', { has: page.locator('code', { hasText: 'dashboard/people.csv' }) });
      const jobId = await rows.getAttribute('data-job-id');
      const [response] = await Promise.all([
        page.waitForResponse((candidate) => candidate.url().endsWith('/v1/trigger')),
        rows.locator('button', { hasText: 'Run again' }).click(),
      ]);
      expect(response.request().postDataJSON()).to.deep.equal({
        bucket: 'ingest',
        key: 'dashboard/people.csv',
        pipeline: 'default',
        force: true,
      });
      expect(response.status()).to.equal(202);
      const answered = (await response.json()) as { jobs: { id: string; duplicate: boolean }[] };
      expect(answered.jobs[0]!.duplicate).to.equal(false);
      expect(answered.jobs[0]!.id).not.to.equal(jobId);
      await page.locator('#jobs-status', { hasText: 'Running dashboard/people.csv again: new job ' }).waitFor();
      await rows.nth(1).waitFor();
      await rows.nth(0).locator('.status', { hasText: 'succeeded' }).waitFor();
      expect(await rows.nth(1).getAttribute('data-job-id')).to.equal(jobId);
      expect(await page.locator('#jobs-count').textContent()).to.equal('4 jobs shown.');
      expect(problems).to.deep.equal([]);
    });
  });

  describe('without a token, with scripted jobs', () => {
    let svc: TestService;
    const trigger = async (key: string) => {
      const answer = await postTrigger(svc, { key, versionId: 'v1' });
      expect(answer.status).to.equal(202);
      return answer.body.jobs[0] as Job;
    };
    const rowOf = (key: string) => page.locator('tr', { has: page.locator('code', { hasText: key }) });

    before(async () => {
      // Loopback without API_TOKEN, as on a laptop; jobs scripted so that one fails with a long error and one runs
      // until cancelled.
      svc = await startTestService({
        env: { JOB_CONCURRENCY: '4', SHUTDOWN_TIMEOUT_MS: '50' },
        embeddedS3Events: false,
        runJob: scriptedJob,
      });
      for (const key of ['ok/2024/01.csv', 'ok/2024/02.csv', 'ok/2024/03.csv', FAILING_KEY])
        await waitForJob(svc, (await trigger(key)).id);
      problems.length = 0;
    });
    after(async () => svc?.stop());

    it('should hide the token section when the service needs no token, and page with "Load more"', async () => {
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.goto(`${svc.url}/?limit=3`);
      await page.locator('#connection', { hasText: 'Live updates: on' }).waitFor();
      await page.locator('#jobs-count', { hasText: '3 jobs shown, more on the server.' }).waitFor();
      expect(await page.locator('#token-section').isHidden()).to.be.true;
      // The source cell names the bucket too: with ALLOWED_BUCKETS one key may be two objects.
      expect(await page.locator('#jobs tbody code').allTextContents()).to.deep.equal(
        [FAILING_KEY, 'ok/2024/03.csv', 'ok/2024/02.csv'].map((key) => `ingest/${key}`),
      );

      await page.locator('#load-more').focus();
      await page.keyboard.press('Enter');
      await page.locator('#jobs-count', { hasText: '4 jobs shown.' }).waitFor();
      expect(await page.locator('#load-more').isHidden()).to.be.true;
      expect(await page.locator('#jobs tbody code').allTextContents()).to.deep.equal(
        [FAILING_KEY, 'ok/2024/03.csv', 'ok/2024/02.csv', 'ok/2024/01.csv'].map((key) => `ingest/${key}`),
      );
      expect(problems).to.deep.equal([]);
    });

    it('should count jobs as they arrive live', async () => {
      await trigger('ok/2024/05.csv');
      await rowOf('ok/2024/05.csv').locator('.status', { hasText: 'succeeded' }).waitFor();
      expect(await page.locator('#jobs-count').textContent()).to.equal('5 jobs shown.');
      expect(await page.locator('#jobs tbody code').first().textContent()).to.equal('ingest/ok/2024/05.csv');
    });

    it('should fit 1280 and 400 px wide, a long error in one readable block', async () => {
      await trigger('slow/2024/06.csv');
      await rowOf('slow/2024/06.csv').locator('.status', { hasText: 'running' }).waitFor();
      await mkdir(ARTIFACTS, { recursive: true });
      const error = '#jobs tr:has(.status[data-status="failed"]) .error-text';
      for (const width of [1280, 1200, 1024, 800, 400]) {
        await page.setViewportSize({ width, height: 900 });
        const layout = await layoutProblems(page);
        expect(layout.overflowing, `at ${width} px`).to.deep.equal([]);
        expect(layout.scrollWidth, `at ${width} px`).to.equal(layout.viewportWidth);
        const box = (await page.locator(error).boundingBox())!;
        expect(box.width, `error text width at ${width} px`).to.be.greaterThan(await charactersWidth(page, error, 12));
        // Status and Cancel in full view, not clipped: inside the viewport and not covered.
        for (const locator of [
          rowOf('slow/2024/06.csv').locator('.status'),
          rowOf('slow/2024/06.csv').locator('button', { hasText: 'Cancel' }),
        ]) {
          const target = (await locator.boundingBox())!;
          expect(target.x, `at ${width} px`).to.be.at.least(0);
          expect(target.x + target.width, `at ${width} px`).to.be.at.most(width);
        }
        if (width === 1280 || width === 400)
          await page.screenshot({ path: path.join(ARTIFACTS, `dashboard-${width}.png`), fullPage: true });
      }
      await page.setViewportSize({ width: 1280, height: 800 });
      expect(problems).to.deep.equal([]);
    });

    it('should ask before cancelling, and cancel only once confirmed', async () => {
      const row = rowOf('slow/2024/06.csv');
      const cancelButton = row.locator('button', { hasText: 'Cancel' });
      const asked: string[] = [];
      page.once('dialog', (dialog) => {
        asked.push(`${dialog.type()}: ${dialog.message()}`);
        void dialog.dismiss();
      });
      await cancelButton.click();
      await page.locator('#jobs-status', { hasText: 'The job for slow/2024/06.csv goes on.' }).waitFor();
      expect(asked).to.deep.equal([
        'confirm: Cancel the job for slow/2024/06.csv? It stops now; its outputs are not written.',
      ]);
      expect(await row.locator('.status').textContent()).to.equal('▶ running');

      page.once('dialog', (dialog) => void dialog.accept());
      const [request] = await Promise.all([
        page.waitForRequest((candidate) => candidate.method() === 'DELETE'),
        cancelButton.click(),
      ]);
      expect(new URL(request.url()).pathname).to.equal(`/v1/jobs/${await row.getAttribute('data-job-id')}`);
      await row.locator('.status', { hasText: 'cancelled' }).waitFor();
      expect(await row.locator('.status').textContent()).to.equal('⊘ cancelled');
      expect(await row.locator('button', { hasText: 'Run again' }).count()).to.equal(1);
      expect(problems).to.deep.equal([]);
    });
  });
});

describe('dashboard without API_TOKEN (headless Chromium)', function () {
  this.timeout(60_000);
  let svc: TestService;
  let browser: HeadlessPage;
  let page: Page;
  let problems: string[];

  before(async function () {
    svc = await startTestService({ env: { JOB_CONCURRENCY: '2' }, embeddedS3Events: false });
    browser = await openHeadlessPage();
    ({ page, problems } = browser);
  });

  after(async () => {
    await browser?.close();
    await svc?.stop();
  });

  it('should upload a CSV and show it succeed with no token, its requests being same-origin', async () => {
    await page.goto(`${svc.url}/`);
    await page.locator('#connection', { hasText: 'Live updates: on' }).waitFor();
    await page.setInputFiles('#file', { name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
    await page.fill('#key', 'open/people.csv');
    await page.click('#upload-button');
    await page.locator('#upload-status', { hasText: 'Stored s3://ingest/open/people.csv' }).waitFor();
    const row = page.locator('tr', { has: page.locator('code', { hasText: 'open/people.csv' }) });
    await row.locator('.status', { hasText: 'succeeded' }).waitFor();
    expect(problems).to.deep.equal([]);
    // A DELETE from the page itself passes the cross-site check: a finished job is 409, not 403.
    const id = ((await (await svc.fetch('/v1/jobs')).json()) as { jobs: { id: string }[] }).jobs[0]!.id;
    expect(
      await page.evaluate(`fetch('/v1/jobs/${id}', { method: 'DELETE' }).then((response) => response.status)`),
    ).to.equal(409);
  });

  it('should refuse what a page of another site sends it with no-cors (upload and trigger), storing and queuing nothing', async () => {
    // Another site: a page of its own at http://localhost:<another port>, no CSP.
    const site = http.createServer((_request, response) =>
      response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>elsewhere</title>'),
    );
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    const other = await browser.context.newPage();
    await other.goto(`http://localhost:${(site.address() as AddressInfo).port}/`);
    const target = svc.url;
    const before = ((await (await svc.fetch('/v1/jobs')).json()) as { jobs: unknown[] }).jobs.length;
    await other.evaluate(`(async () => {
      const form = new FormData();
      form.append('key', 'evil/upload.csv');
      form.append('file', new Blob(['a\\n1\\n']), 'a.csv');
      await fetch('${target}/v1/uploads', { method: 'POST', mode: 'no-cors', body: form });
      await fetch('${target}/v1/trigger', { method: 'POST', mode: 'no-cors', body: JSON.stringify({ key: 'open/people.csv', force: true }) });
      await fetch('${target}/v1/trigger', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '{"key":"open/people.csv","force":true}' });
    })()`);
    await other.close();
    await new Promise((resolve) => site.close(resolve));
    expect(((await (await svc.fetch('/v1/jobs')).json()) as { jobs: unknown[] }).jobs).to.have.length(before);
    const refused = svc
      .logs()
      .filter((line) => line['message'] === 'request' && line['status'] === 403 && line['method'] === 'POST');
    expect(refused.map((line) => line['path'])).to.deep.equal(['/v1/uploads', '/v1/trigger', '/v1/trigger']);
    expect((await svc.fetch('/v1/jobs?limit=1000')).status).to.equal(200);
    const stored = await svc.service.s3.send(new ListObjectsV2Command({ Bucket: 'ingest', Prefix: 'evil/' }));
    expect(stored.KeyCount ?? 0).to.equal(0);
  });
});
