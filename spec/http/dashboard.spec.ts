import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import sparticuz from '@sparticuz/chromium';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startTestService, type TestService } from '../helpers/test-service.ts';

const SYSTEM_CHROMIUM = '/usr/bin/chromium';
// Flags that would weaken what the page is tested under (its CSP, same-origin rules) stay off.
const WEAKENING = new Set(['--disable-web-security', '--allow-running-insecure-content']);

/** A browser from CHROMIUM_PATH, else the system's, else the one the @sparticuz/chromium dev dependency ships. */
async function findChromium(): Promise<{ executablePath: string; args: string[] }> {
  const explicit = process.env.CHROMIUM_PATH ?? (existsSync(SYSTEM_CHROMIUM) ? SYSTEM_CHROMIUM : undefined);
  if (explicit !== undefined) return { executablePath: explicit, args: [] };
  return { executablePath: await sparticuz.executablePath(), args: sparticuz.args.filter((arg) => !WEAKENING.has(arg)) };
}
/** A headless Chromium with its own profile folder. */
async function launchChromium(userDataDir: string): Promise<BrowserContext> {
  const browser = await findChromium();
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: browser.executablePath,
    headless: true,
    acceptDownloads: true,
    args: [...browser.args, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 800 },
  });
}
const ARTIFACTS = path.resolve(import.meta.dirname, '../../artifacts');
const TOKEN = 'dashboard-token';
const CSV = 'name,city\nAda,London\nGrace,New York\nLinus,Helsinki,extra\n';

describe('dashboard (headless Chromium)', function () {
  this.timeout(60_000);
  let svc: TestService;
  let userDataDir: string;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];

  before(async function () {
    // The service as it ships: the CSV job in worker threads, uploads into the embedded S3.
    svc = await startTestService({ env: { API_TOKEN: TOKEN, JOB_CONCURRENCY: '2' }, embeddedS3Events: false });
    userDataDir = await mkdtemp(path.join(os.tmpdir(), 's3-csv-ingest-chromium-'));
    context = await launchChromium(userDataDir);
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  });

  after(async () => {
    await context?.close();
    await svc?.stop();
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  });

  it('should serve the page with a CSP and no inline script', async () => {
    const response = await fetch(new URL('/', svc.url));
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-security-policy')).to.include("script-src 'self'");
    const html = await response.text();
    expect(html).not.to.match(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect((await fetch(new URL('/assets/app.js', svc.url))).headers.get('content-type')).to.match(/^text\/javascript/);
    expect((await fetch(new URL('/assets/secret.txt', svc.url))).status).to.equal(404);
  });

  it('should take a token, upload a CSV with progress, show it succeed live, and download its rows', async () => {
    const started = performance.now();
    await page.goto(`${svc.url}/`);
    await page.locator('#connection', { hasText: 'token is missing or wrong' }).waitFor();

    // Keyboard only: type the token and submit it with Enter.
    await page.locator('#token').focus();
    await page.keyboard.type(TOKEN);
    await page.keyboard.press('Enter');
    await page.locator('#connection', { hasText: 'Live updates: on' }).waitFor();
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

    const [download] = await Promise.all([page.waitForEvent('download'), row.locator('button[data-output="rows"]').click()]);
    const saved = await download.path();
    const lines = (await readFile(saved, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as unknown);
    expect(lines).to.deep.equal([{ name: 'Ada', city: 'London' }, { name: 'Grace', city: 'New York' }]);
    expect(download.suggestedFilename()).to.equal('people.csv.rows.ndjson');

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    console.log(`      (browser flow: ${Math.round(performance.now() - started)} ms; screenshot in artifacts/dashboard.png)`);
  });

  it('should take a dropped file, and show a failed job\'s error', async () => {
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
    expect(problems).to.deep.equal([]);
  });
});

describe('dashboard without API_TOKEN (headless Chromium)', function () {
  this.timeout(60_000);
  let svc: TestService;
  let userDataDir: string;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];

  before(async function () {
    svc = await startTestService({ env: { JOB_CONCURRENCY: '2' }, embeddedS3Events: false });
    userDataDir = await mkdtemp(path.join(os.tmpdir(), 's3-csv-ingest-chromium-'));
    context = await launchChromium(userDataDir);
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  });

  after(async () => {
    await context?.close();
    await svc?.stop();
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
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
    const id = (await (await svc.fetch('/v1/jobs')).json() as { jobs: { id: string }[] }).jobs[0]!.id;
    expect(await page.evaluate(`fetch('/v1/jobs/${id}', { method: 'DELETE' }).then((response) => response.status)`)).to.equal(409);
  });

  it('should refuse what a page of another site sends it with no-cors (upload and trigger), storing and queuing nothing', async () => {
    // Another site: a page of its own at http://localhost:<another port>, no CSP.
    const site = http.createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>elsewhere</title>'));
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    const other = await context.newPage();
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
    const refused = svc.logs().filter((line) => line['message'] === 'request' && line['status'] === 403 && line['method'] === 'POST');
    expect(refused.map((line) => line['path'])).to.deep.equal(['/v1/uploads', '/v1/trigger', '/v1/trigger']);
    expect((await svc.fetch('/v1/jobs?limit=1000')).status).to.equal(200);
    const stored = await svc.service.s3.send(new ListObjectsV2Command({ Bucket: 'ingest', Prefix: 'evil/' }));
    expect(stored.KeyCount ?? 0).to.equal(0);
  });
});
