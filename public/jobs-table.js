/* global document */
// The jobs table: one row per job, newest first, updated in place (focus stays where it is).
// Under 75rem the same rows are laid out as cards (style.css); each cell carries its
// column name in data-label for that, and explicit ARIA roles keep the table's
// semantics when CSS turns the rows into blocks.

const SYMBOLS = { queued: '…', running: '▶', succeeded: '✓', failed: '✗', cancelled: '⊘' };
const OUTPUTS = [
  ['rows', 'rows.ndjson'],
  ['rejects', 'rejects.ndjson'],
  ['manifest', 'manifest.json'],
];
const ACTIVE = new Set(['queued', 'running']);
const COLUMNS = [
  ['created', 'Created'],
  ['source', 'Source'],
  ['status', 'Status'],
  ['progress', 'Progress'],
  ['rows', 'Rows'],
  ['rejects', 'Rejects'],
  ['error', 'Error'],
  ['actions', 'Outputs and actions'],
];
const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

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

function button(text, label, onClick, className = '') {
  const node = element('button', { type: 'button', textContent: text, className });
  node.setAttribute('aria-label', label);
  node.addEventListener('click', onClick);
  return node;
}

/**
 * @param {HTMLTableSectionElement} tbody
 * @param {{ onDownload: (job: object, name: string, filename: string) => void, onCancel: (job: object) => void,
 *           onRunAgain: (job: object) => void, onChange?: () => void }} actions
 */
export function createJobsTable(tbody, actions) {
  /**
   * @type {Map<string, {
   *   job: object, tr: HTMLTableRowElement, cells: Record<string, HTMLTableCellElement>, shown: string
   * }>}
   */
  const rows = new Map();

  function createRow(job) {
    const cells = Object.fromEntries(
      COLUMNS.map(([name, label]) => {
        const td = element('td', { className: `col-${name}` });
        td.dataset.label = label;
        td.setAttribute('role', 'cell');
        return [name, td];
      }),
    );
    const tr = element(
      'tr',
      {},
      COLUMNS.map(([name]) => cells[name]),
    );
    tr.setAttribute('role', 'row');
    tr.dataset.jobId = job.id;
    const created = new Date(job.createdAt);
    cells.created.append(
      element('time', { dateTime: job.createdAt, title: created.toLocaleString() }, [
        element('span', { textContent: created.toLocaleDateString() }),
        ' ',
        element('span', { textContent: created.toLocaleTimeString() }),
      ]),
    );
    // The bucket is shown: with ALLOWED_BUCKETS, one key may be two objects (with separate outputs).
    // Long keys may break after a slash, not inside a name.
    const key = element('code', { title: `s3://${job.source.bucket}/${job.source.key} (${job.trigger})` });
    `${job.source.bucket}/${job.source.key}`.split('/').forEach((part, index) => {
      if (index > 0) key.append('/', element('wbr'));
      key.append(part);
    });
    cells.source.append(key);
    cells.source.append(element('span', { className: 'hint pipeline', textContent: `pipeline ${job.pipeline}` }));
    return { job, tr, cells, shown: '' };
  }

  function render(entry) {
    const { job, cells } = entry;
    const status = element('span', { className: 'status', textContent: `${SYMBOLS[job.status] ?? ''} ${job.status}` });
    status.dataset.status = job.status;
    cells.status.replaceChildren(status);
    cells.status.dataset.status = job.status;
    if (job.attempts > 1)
      cells.status.append(element('span', { className: 'hint', textContent: ` (attempt ${job.attempts})` }));

    const { bytesRead, totalBytes, rows: rowCount, rejected } = job.progress;
    const done = job.status === 'succeeded';
    const fraction = totalBytes ? Math.min(1, bytesRead / totalBytes) : done ? 1 : null;
    const percent = fraction === null ? '' : `${Math.round(fraction * 100)} %`;
    const bytes =
      fraction === null
        ? `${formatBytes(bytesRead)} read`
        : `${formatBytes(bytesRead)} of ${formatBytes(totalBytes ?? bytesRead)}`;
    const text = percent ? `${percent} (${bytes})` : bytes;
    // A bar without a value moves: only for a job still at work whose size is unknown.
    const bar = fraction !== null || ACTIVE.has(job.status) ? [element('progress', { max: 1 })] : [];
    if (fraction !== null) bar[0].value = fraction;
    bar[0]?.setAttribute('aria-label', `Progress of ${job.source.key}: ${text}`);
    cells.progress.replaceChildren(
      ...bar,
      element('span', { className: 'progress-text', textContent: percent }),
      element('span', { className: 'progress-text', textContent: bytes }),
    );
    cells.rows.textContent = String(rowCount);
    cells.rejects.textContent = String(rejected);
    // One block of text that wraps between words: code first, then the sentence.
    cells.error.replaceChildren(
      ...(job.error
        ? [element('p', { className: 'error-text', textContent: `${job.error.code}: ${job.error.message}` })]
        : []),
    );

    // Buttons are rebuilt only when what they offer changes, so focus is kept.
    const shown = `${job.status}|${job.output ? 'out' : ''}`;
    if (shown === entry.shown) return;
    entry.shown = shown;
    const key = job.source.key;
    const downloads =
      done && job.output
        ? OUTPUTS.map(([name, filename]) => {
            const download = button(
              name,
              `Download ${filename} of ${key}`,
              () => actions.onDownload(entry.job, name, filename),
              'link',
            );
            download.dataset.output = name;
            download.title = `Download ${filename}`;
            return download;
          })
        : [];
    const offered = [];
    if (ACTIVE.has(job.status))
      offered.push(button('Cancel', `Cancel the job for ${key}`, () => actions.onCancel(entry.job), 'danger'));
    if (FINISHED.has(job.status))
      offered.push(button('Run again', `Run ${key} again`, () => actions.onRunAgain(entry.job)));
    cells.actions.replaceChildren(
      ...(downloads.length > 0
        ? [
            element('div', { className: 'downloads' }, [
              element('span', { className: 'hint', textContent: 'Download' }),
              ...downloads,
            ]),
          ]
        : []),
      element('div', { className: 'actions' }, offered),
    );
  }

  /** Puts a row where its creation time says (newest first), so live and paged rows keep the order. */
  function place(entry) {
    const created = entry.job.createdAt;
    for (const tr of tbody.rows) {
      const other = rows.get(tr.dataset.jobId);
      if (other !== undefined && other !== entry && other.job.createdAt < created) {
        tbody.insertBefore(entry.tr, tr);
        return;
      }
    }
    tbody.append(entry.tr);
  }

  function add(job, inOrder = false) {
    const entry = createRow(job);
    rows.set(job.id, entry);
    render(entry);
    if (inOrder) tbody.append(entry.tr);
    else place(entry);
  }

  return {
    /** Shows exactly these jobs (a fresh list from the API, newest first). */
    replaceAll(jobs) {
      rows.clear();
      tbody.replaceChildren();
      for (const job of jobs) add(job, true);
      actions.onChange?.();
    },
    /** Adds a job in its place, or merges changed fields into its row. False when it is unknown and incomplete. */
    upsert(change) {
      const entry = rows.get(change.id);
      if (entry === undefined) {
        if (!change.source || !change.createdAt) return false;
        add(change);
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
