/* global document, sessionStorage, fetch, FormData, XMLHttpRequest, URL, setTimeout */
// The dashboard: API token, uploads with progress, and the jobs table kept live
// over Server-Sent Events. Plain ES modules, no build step.
import { followEventStream } from './event-stream.js';
import { createJobsTable, formatBytes } from './jobs-table.js';

const TOKEN_KEY = 's3-csv-ingest.token';
const $ = (id) => document.getElementById(id);

let token = sessionStorage.getItem(TOKEN_KEY) ?? '';
let pickedFile = null;
let upload = null;

const authHeaders = () => (token ? { authorization: `Bearer ${token}` } : {});

/** Calls the API; a non-2xx answer throws an Error carrying the body's message. */
async function api(path, init = {}) {
  const response = await fetch(path, { ...init, headers: { ...authHeaders(), ...init.headers } });
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

// --- jobs ------------------------------------------------------------------

const table = createJobsTable($('jobs').tBodies[0], {
  onDownload: download,
  onCancel: cancel,
  onChange: () => { $('empty').hidden = table.size() > 0; },
});

async function loadJobs() {
  $('jobs-status').textContent = 'Loading jobs…';
  try {
    const body = await (await api('/v1/jobs?limit=100')).json();
    table.replaceAll(body.jobs);
    $('jobs-status').textContent = `${body.jobs.length} job(s) shown.`;
  } catch (error) {
    $('jobs-status').textContent = `Could not load the jobs: ${error.message}`;
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
  $('jobs-status').textContent = `Downloading ${filename} of ${job.source.key}…`;
  try {
    const blob = await (await api(`/v1/jobs/${job.id}/outputs/${name}`)).blob();
    const url = URL.createObjectURL(blob);
    const link = Object.assign(document.createElement('a'), { href: url, download: `${job.source.key.split('/').pop()}.${filename}` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    $('jobs-status').textContent = `Downloaded ${filename} of ${job.source.key} (${formatBytes(blob.size)}).`;
  } catch (error) {
    $('jobs-status').textContent = `Could not download ${filename}: ${error.message}`;
  }
}

async function cancel(job) {
  try {
    table.upsert(await (await api(`/v1/jobs/${job.id}`, { method: 'DELETE' })).json());
    $('jobs-status').textContent = `Cancelled the job for ${job.source.key}.`;
  } catch (error) {
    $('jobs-status').textContent = `Could not cancel: ${error.message}`;
  }
}

const STATES = {
  connecting: 'Live updates: connecting…',
  live: 'Live updates: on',
  retrying: 'Live updates: interrupted',
  unauthorized: 'Live updates: the API token is missing or wrong',
  off: 'Live updates: off',
};

const stream = followEventStream('/v1/events', {
  headers: authHeaders,
  // Every (re)connection reloads the list, so nothing missed while away is lost.
  onOpen: loadJobs,
  onState(state, detail) {
    $('connection').dataset.state = state;
    $('connection').textContent = detail ? `${STATES[state]} (${detail})` : STATES[state];
  },
  onMessage(event, data) {
    if (!data || !data.job || !data.job.id) return;
    if (!table.upsert(data.job)) void loadJob(data.job.id);
  },
});

// --- token -----------------------------------------------------------------

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
$('refresh').addEventListener('click', () => void loadJobs());

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
    $('upload-status').textContent = `Uploading ${pickedFile.name}: ${Math.round((progress.loaded / progress.total) * 100)} % (${formatBytes(progress.loaded)} of ${formatBytes(progress.total)})`;
  });
  xhr.addEventListener('load', async () => {
    finishUpload();
    if (xhr.status !== 201) {
      $('upload-status').textContent = `Upload failed: ${(await apiError(xhr.status, xhr.responseText)).message}`;
      return;
    }
    const body = JSON.parse(xhr.responseText);
    $('upload-progress').value = 100;
    $('upload-status').textContent = `Stored s3://${body.upload.bucket}/${body.upload.key} (${formatBytes(body.upload.size)})${body.job ? `; job ${body.job.status}` : '; not processed'}.`;
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
