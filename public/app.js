/* global document, sessionStorage, fetch, FormData, XMLHttpRequest, URL, URLSearchParams, location */
/* global setTimeout, confirm */
// The dashboard: API token, uploads with progress, and the jobs table kept live
// over Server-Sent Events. Plain ES modules, no build step.
import { followEventStream } from './event-stream.js';
import { createJobsTable, formatBytes } from './jobs-table.js';

const TOKEN_KEY = 's3-csv-ingest.token';
const $ = (id) => document.getElementById(id);

// Jobs per page: `/?limit=20` asks for smaller pages (the API caps it at 1000).
const PAGE_SIZE = Math.min(
  1000,
  Math.max(1, Number.parseInt(new URLSearchParams(location.search).get('limit') ?? '', 10) || 100),
);

let token = sessionStorage.getItem(TOKEN_KEY) ?? '';
let pickedFile = null;
let upload = null;
let nextCursor = null;

const authHeaders = () => (token ? { authorization: `Bearer ${token}` } : {});

/** Calls the API; a non-2xx answer throws an Error carrying the body's message. */
async function api(path, init = {}) {
  const sent = Boolean(token);
  const response = await fetch(path, { ...init, headers: { ...authHeaders(), ...init.headers } });
  noteAuth(response.status, sent);
  if (!response.ok) throw await apiError(response.status, await response.text());
  return response;
}

async function apiError(status, text) {
  let message = `The server answered ${status}.`;
  try {
    const body = JSON.parse(text);
    if (body && body.error) message = `${body.error.message} (${body.error.code})`;
  } catch {
    // not JSON: keep the status line
  }
  return Object.assign(new Error(message), { status });
}

// --- token -----------------------------------------------------------------

const AUTH = {
  needed: 'Token needed: this service asks for its API token.',
  refused: 'Token refused: the service does not accept this token. Check it, or ask for the current one.',
  accepted: 'Token accepted.',
};

/**
 * What the last answer says about the token. A 401 shows the token section (needed
 * when none was sent, refused when one was); a success without a token means the
 * service needs none, so the section goes away.
 */
function noteAuth(status, sent) {
  if (status === 401) showAuth(sent ? 'refused' : 'needed');
  else if (status >= 200 && status < 300) showAuth(sent ? 'accepted' : 'none');
}

function showAuth(state) {
  $('token-section').hidden = state === 'none';
  $('token-section').dataset.auth = state;
  $('token-status').textContent = AUTH[state] ?? '';
}

$('token').value = token;
$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  token = $('token').value.trim();
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
  stream.restart();
});
$('token-clear').addEventListener('click', () => {
  token = '';
  $('token').value = '';
  sessionStorage.removeItem(TOKEN_KEY);
  stream.restart();
});

// --- jobs ------------------------------------------------------------------

const table = createJobsTable($('jobs').tBodies[0], {
  onDownload: download,
  onCancel: cancel,
  onRunAgain: runAgain,
  onChange: showCount,
});

/** Kept in step with the rows: every list load, live arrival and page adds to it. */
function showCount() {
  const count = table.size();
  $('empty').hidden = count > 0;
  $('jobs-count').textContent =
    `${count} ${count === 1 ? 'job' : 'jobs'} shown${nextCursor ? ', more on the server' : ''}.`;
  $('load-more').hidden = !nextCursor;
}

function say(text) {
  $('jobs-status').textContent = text;
}

/** Reloads the list, as many jobs as are shown now (at least a page), so a reconnect keeps what was paged in. */
async function loadJobs() {
  say('Loading jobs…');
  try {
    const limit = Math.min(1000, Math.max(PAGE_SIZE, table.size()));
    const body = await (await api(`/v1/jobs?limit=${limit}`)).json();
    nextCursor = body.next ?? null;
    table.replaceAll(body.jobs);
    say('');
  } catch (error) {
    say(`Could not load the jobs: ${error.message}`);
  }
}

async function loadMore() {
  if (!nextCursor) return;
  $('load-more').disabled = true;
  say('Loading older jobs…');
  try {
    const body = await (await api(`/v1/jobs?limit=${PAGE_SIZE}&cursor=${encodeURIComponent(nextCursor)}`)).json();
    nextCursor = body.next ?? null;
    for (const job of body.jobs) table.upsert(job);
    say(`Loaded ${body.jobs.length} older ${body.jobs.length === 1 ? 'job' : 'jobs'}.`);
  } catch (error) {
    say(`Could not load older jobs: ${error.message}`);
  } finally {
    $('load-more').disabled = false;
    showCount();
  }
}

async function loadJob(id) {
  try {
    table.upsert(await (await api(`/v1/jobs/${encodeURIComponent(id)}`)).json());
  } catch {
    // gone or not allowed: the next list reload tells
  }
}

async function download(job, name, filename) {
  say(`Downloading ${filename} of ${job.source.key}…`);
  try {
    const blob = await (await api(`/v1/jobs/${job.id}/outputs/${name}`)).blob();
    const url = URL.createObjectURL(blob);
    const link = Object.assign(document.createElement('a'), {
      href: url,
      download: `${job.source.key.split('/').pop()}.${filename}`,
    });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    say(`Downloaded ${filename} of ${job.source.key} (${formatBytes(blob.size)}).`);
  } catch (error) {
    say(`Could not download ${filename}: ${error.message}`);
  }
}

async function cancel(job) {
  // A native dialog: keyboard and screen readers handle it, and it cannot be clicked through by accident.
  if (!confirm(`Cancel the job for ${job.source.key}? It stops now; its outputs are not written.`)) {
    say(`The job for ${job.source.key} goes on.`);
    return;
  }
  try {
    table.upsert(await (await api(`/v1/jobs/${job.id}`, { method: 'DELETE' })).json());
    say(`Cancelled the job for ${job.source.key}.`);
  } catch (error) {
    say(`Could not cancel: ${error.message}`);
  }
}

/** Triggers the object again with the job's pipeline; `force` so that a succeeded one runs too. */
async function runAgain(job) {
  const { bucket, key, versionId } = job.source;
  const body = { bucket, key, ...(versionId ? { versionId } : {}), pipeline: job.pipeline, force: true };
  say(`Asking to run ${key} again…`);
  try {
    const answer = await (
      await api('/v1/trigger', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    ).json();
    const started = answer.jobs[0];
    table.upsert(started);
    say(
      started.duplicate
        ? `Not run again: ${key} already has a ${started.status} job (${started.id}).`
        : `Running ${key} again: new job ${started.id}, ${started.status}.`,
    );
  } catch (error) {
    say(`Could not run ${key} again: ${error.message}`);
  }
}

$('refresh').addEventListener('click', () => void loadJobs());
$('load-more').addEventListener('click', () => void loadMore());

const STATES = {
  connecting: 'Live updates: connecting…',
  live: 'Live updates: on',
  retrying: 'Live updates: interrupted',
  off: 'Live updates: off',
};

const stream = followEventStream('/v1/events', {
  headers: authHeaders,
  // Every (re)connection reloads the list, so nothing missed while away is lost.
  onOpen() {
    showAuth(token ? 'accepted' : 'none');
    void loadJobs();
  },
  onState(state, detail) {
    let text = STATES[state];
    if (state === 'unauthorized') {
      showAuth(token ? 'refused' : 'needed');
      text = `Live updates: ${token ? 'token refused' : 'token needed'}`;
    }
    $('connection').dataset.state = state;
    $('connection').textContent = detail ? `${text} (${detail})` : text;
  },
  onMessage(event, data) {
    if (!data || !data.job || !data.job.id) return;
    if (!table.upsert(data.job)) void loadJob(data.job.id);
  },
});

// --- upload ----------------------------------------------------------------

function pick(file) {
  pickedFile = file ?? null;
  $('file-name').textContent = pickedFile ? `${pickedFile.name} (${formatBytes(pickedFile.size)})` : 'No file chosen.';
  $('upload-status').textContent = pickedFile ? 'Ready to upload.' : 'Pick a file to upload.';
}

$('file').addEventListener('change', () => pick($('file').files[0]));
const zone = $('drop-zone');
for (const type of ['dragenter', 'dragover']) {
  zone.addEventListener(type, (event) => {
    event.preventDefault();
    zone.classList.add('dragging');
  });
}
zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
zone.addEventListener('drop', (event) => {
  event.preventDefault();
  zone.classList.remove('dragging');
  const file = event.dataTransfer && event.dataTransfer.files[0];
  if (file) pick(file);
});

$('upload-form').addEventListener('submit', (event) => {
  event.preventDefault();
  if (upload) return;
  if (!pickedFile) {
    $('upload-status').textContent = 'Choose a file first.';
    $('file').focus();
    return;
  }
  const form = new FormData(); // fields first: the server reads them before the file
  const key = $('key').value.trim();
  if (key) form.append('key', key);
  form.append('process', $('process').checked ? 'true' : 'false');
  form.append('file', pickedFile, pickedFile.name);

  const xhr = new XMLHttpRequest();
  upload = xhr;
  xhr.open('POST', '/v1/uploads');
  for (const [name, value] of Object.entries(authHeaders())) xhr.setRequestHeader(name, value);
  xhr.upload.addEventListener('progress', (progress) => {
    if (!progress.lengthComputable) return;
    $('upload-progress').value = Math.round((progress.loaded / progress.total) * 100);
    $('upload-status').textContent =
      `Uploading ${pickedFile.name}: ${Math.round((progress.loaded / progress.total) * 100)} % (${formatBytes(progress.loaded)} of ${formatBytes(progress.total)})`;
  });
  xhr.addEventListener('load', async () => {
    finishUpload();
    if (xhr.status !== 201) {
      $('upload-status').textContent = `Upload failed: ${(await apiError(xhr.status, xhr.responseText)).message}`;
      return;
    }
    const body = JSON.parse(xhr.responseText);
    $('upload-progress').value = 100;
    $('upload-status').textContent =
      `Stored s3://${body.upload.bucket}/${body.upload.key} (${formatBytes(body.upload.size)})${body.job ? `; job ${body.job.status}` : '; not processed'}.`;
    if (body.job) table.upsert(body.job);
  });
  xhr.addEventListener('error', () => {
    finishUpload();
    $('upload-status').textContent = 'Upload failed: the connection broke.';
  });
  xhr.addEventListener('abort', () => {
    finishUpload();
    $('upload-status').textContent = 'Upload stopped.';
  });
  $('upload-button').disabled = true;
  $('upload-abort').hidden = false;
  $('upload-progress').value = 0;
  $('upload-status').textContent = `Uploading ${pickedFile.name}…`;
  xhr.send(form);
});
$('upload-abort').addEventListener('click', () => upload && upload.abort());

function finishUpload() {
  upload = null;
  $('upload-button').disabled = false;
  $('upload-abort').hidden = true;
}
