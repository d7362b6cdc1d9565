/* global document */
// The jobs table: one row per job, updated in place (focus stays where it is).

const SYMBOLS = { queued: '…', running: '▶', succeeded: '✓', failed: '✗', cancelled: '⊘' };
const OUTPUTS = [['rows', 'rows.ndjson'], ['rejects', 'rejects.ndjson'], ['manifest', 'manifest.json']];

/** Formats a byte count for people. */
export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined) return '?';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

function element(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  for (const child of children) node.append(child);
  return node;
}

/**
 * @param {HTMLTableSectionElement} tbody
 * @param {{ onDownload: (job: object, name: string, filename: string) => void, onCancel: (job: object) => void, onChange?: () => void }} actions
 */
export function createJobsTable(tbody, actions) {
  /** @type {Map<string, { job: object, tr: HTMLTableRowElement, cells: Record<string, HTMLTableCellElement>, shown: string }>} */
  const rows = new Map();

  function createRow(job) {
    const names = ['created', 'source', 'status', 'progress', 'rows', 'rejects', 'error', 'outputs', 'actions'];
    const cells = Object.fromEntries(names.map((name) => [name, element('td', { className: `col-${name}` })]));
    const tr = element('tr', {}, names.map((name) => cells[name]));
    tr.dataset.jobId = job.id;
    const created = new Date(job.createdAt);
    cells.created.append(element('time', { dateTime: job.createdAt, textContent: created.toLocaleString() }));
    // The bucket is shown: with ALLOWED_BUCKETS, one key may be two objects (with separate outputs).
    cells.source.append(element('code', { textContent: `${job.source.bucket}/${job.source.key}`, title: `s3://${job.source.bucket}/${job.source.key} (${job.trigger})` }));
    return { job, tr, cells, shown: '' };
  }

  function render(entry) {
    const { job, cells } = entry;
    cells.status.replaceChildren(element('span', { className: 'status', textContent: `${SYMBOLS[job.status] ?? ''} ${job.status}` }));
    cells.status.dataset.status = job.status;
    cells.status.querySelector('.status').dataset.status = job.status;
    if (job.attempts > 1) cells.status.append(element('span', { className: 'hint', textContent: ` (attempt ${job.attempts})` }));

    const { bytesRead, totalBytes, rows: rowCount, rejected } = job.progress;
    const done = job.status === 'succeeded';
    const fraction = totalBytes ? Math.min(1, bytesRead / totalBytes) : done ? 1 : null;
    const text = fraction === null ? `${formatBytes(bytesRead)} read` : `${Math.round(fraction * 100)} % (${formatBytes(bytesRead)} of ${formatBytes(totalBytes ?? bytesRead)})`;
    const bar = element('progress', { max: 1 });
    if (fraction !== null) bar.value = fraction;
    bar.setAttribute('aria-label', `Progress of ${job.source.key}: ${text}`);
    cells.progress.replaceChildren(bar, element('span', { className: 'progress-text', textContent: ` ${text}` }));
    cells.rows.textContent = String(rowCount);
    cells.rejects.textContent = String(rejected);
    cells.error.textContent = job.error ? `${job.error.code}: ${job.error.message}` : '';

    // Buttons are rebuilt only when what they offer changes, so focus is kept.
    const shown = `${job.status}|${job.output ? 'out' : ''}`;
    if (shown === entry.shown) return;
    entry.shown = shown;
    cells.outputs.replaceChildren(...(done && job.output ? OUTPUTS.map(([name, filename]) => {
      const button = element('button', { type: 'button', className: 'link', textContent: filename });
      button.dataset.output = name;
      button.setAttribute('aria-label', `Download ${filename} of ${job.source.key}`);
      button.addEventListener('click', () => actions.onDownload(entry.job, name, filename));
      return button;
    }) : []));
    const cancellable = job.status === 'queued' || job.status === 'running';
    cells.actions.replaceChildren(...(cancellable ? [(() => {
      const button = element('button', { type: 'button', textContent: 'Cancel' });
      button.setAttribute('aria-label', `Cancel the job for ${job.source.key}`);
      button.addEventListener('click', () => actions.onCancel(entry.job));
      return button;
    })()] : []));
  }

  return {
    /** Shows exactly these jobs (a fresh list from the API). */
    replaceAll(jobs) {
      rows.clear();
      tbody.replaceChildren();
      for (const job of [...jobs].sort((a, b) => b.createdAt.localeCompare(a.createdAt))) {
        const entry = createRow(job);
        rows.set(job.id, entry);
        render(entry);
        tbody.append(entry.tr);
      }
      actions.onChange?.();
    },
    /** Adds a job (at the top) or merges changed fields into it. */
    upsert(change) {
      const entry = rows.get(change.id);
      if (entry === undefined) {
        if (!change.source || !change.createdAt) return false;
        const fresh = createRow(change);
        rows.set(change.id, fresh);
        render(fresh);
        tbody.prepend(fresh.tr);
        actions.onChange?.();
        return true;
      }
      entry.job = { ...entry.job, ...change };
      render(entry);
      return true;
    },
    has: (id) => rows.has(id),
    size: () => rows.size,
  };
}
