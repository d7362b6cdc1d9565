import sparticuz from '@sparticuz/chromium';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const SYSTEM_CHROMIUM = '/usr/bin/chromium';
// Flags that would weaken what the page is tested under (its CSP, same-origin rules) stay off.
const WEAKENING = new Set(['--disable-web-security', '--allow-running-insecure-content']);

/** A browser from CHROMIUM_PATH, else the system's, else the one the @sparticuz/chromium dev dependency ships. */
async function findChromium(): Promise<{ executablePath: string; args: string[] }> {
  const explicit = process.env.CHROMIUM_PATH ?? (existsSync(SYSTEM_CHROMIUM) ? SYSTEM_CHROMIUM : undefined);
  if (explicit !== undefined) return { executablePath: explicit, args: [] };
  return {
    executablePath: await sparticuz.executablePath(),
    args: sparticuz.args.filter((arg) => !WEAKENING.has(arg)),
  };
}

export interface HeadlessPage {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors and uncaught page errors so far; a spec may empty it. */
  readonly problems: string[];
  close(): Promise<void>;
}

/** A headless Chromium with a profile folder of its own and one page whose errors are collected. */
export async function openHeadlessPage(): Promise<HeadlessPage> {
  const userDataDir = await mkdtemp(path.join(os.tmpdir(), 's3-csv-ingest-chromium-'));
  const browser = await findChromium();
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: browser.executablePath,
    headless: true,
    acceptDownloads: true,
    args: [
      ...browser.args,
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 800 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return {
    context,
    page,
    problems,
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}
