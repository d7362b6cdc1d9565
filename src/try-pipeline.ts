// npm run try -- <file.csv> [--pipeline name] [--pipelines pipelines.json] [--out dir] [--key key] [--rows n]
// The dry run: a pipeline's parse, conversion and transform on a local file, with no S3 and no service.
import { createReadStream, createWriteStream } from 'node:fs';
import { access, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { createPipelineRegistry } from './csv/create-pipeline-registry.ts';
import { loadPipelines } from './csv/load-pipelines.ts';
import { isAppError } from './errors.ts';
import { runPipelineOnStream } from './jobs/run-pipeline-on-stream.ts';

/** Thrown for a usage problem: printed as one line, exit 1. */
class UsageError extends Error {}

async function main(argv: readonly string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      pipeline: { type: 'string' },
      pipelines: { type: 'string', default: process.env['PIPELINES_FILE'] },
      out: { type: 'string' },
      // The object key the run stands for: it picks the pipeline (without --pipeline) and is the transform's `key`.
      key: { type: 'string' },
      rows: { type: 'string', default: '10' },
    },
  });
  const [file] = positionals;
  if (file === undefined || positionals.length > 1) {
    throw new UsageError('usage: npm run try -- <file.csv> [--pipeline name] [--pipelines pipelines.json] [--out dir]');
  }
  await access(file).catch(() => {
    throw new UsageError(`try: cannot read ${file}: no such file`);
  });
  const definitions = await loadPipelines(values.pipelines);
  const registry = createPipelineRegistry(definitions);
  const key = values.key ?? file;
  const pipeline = values.pipeline === undefined ? registry.forKey(key) : registry.byName(values.pipeline);
  if (pipeline === undefined) {
    throw new UsageError(
      `try: no pipeline named "${values.pipeline}" in ${values.pipelines ?? '(no --pipelines file)'}; defined: ${registry.names().join(', ')}`,
    );
  }
  const shown = Number(values.rows);
  const out = values.out === undefined ? undefined : path.resolve(values.out);
  if (out !== undefined) await mkdir(out, { recursive: true });
  const rows = preview(shown, out === undefined ? undefined : path.join(out, 'rows.ndjson'));
  const rejects = preview(shown, out === undefined ? undefined : path.join(out, 'rejects.ndjson'));

  const manifest = await runPipelineOnStream({
    pipeline,
    input: createReadStream(file),
    key,
    rows: rows.stream,
    rejects: rejects.stream,
  });
  await Promise.all([rows.close(), rejects.close()]);
  if (out !== undefined) await writeFile(path.join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  const print = (line: string) => process.stdout.write(`${line}\n`);
  const module = pipeline.transform === undefined ? '' : ` (${path.relative(process.cwd(), pipeline.transform)})`;
  print(`pipeline "${pipeline.name}"${module} on ${file}`);
  if (values.pipeline === undefined && definitions.length > 0 && !definitions.includes(pipeline)) {
    print(`  (no pipeline matches the key ${key}: name one with --pipeline, or give the object's key with --key)`);
  }
  print(`first rows:`);
  for (const line of rows.lines) print(`  ${line}`);
  print(`rejects:`);
  for (const line of rejects.lines) {
    const reject = JSON.parse(line) as { line: number; record: number; reason: string };
    print(`  line ${reject.line} (record ${reject.record}): ${reject.reason}`);
  }
  print(
    `${manifest.rows} rows, ${manifest.rejected} rejected, ${manifest.dropped} dropped · ${manifest.blocks} block${manifest.blocks === 1 ? '' : 's'} · ${manifest.timings.durationMs} ms`,
  );
  if (out !== undefined) print(`outputs in ${out}: rows.ndjson, rejects.ndjson, manifest.json`);
}

/** A byte sink that keeps its first `limit` lines to show, and writes everything to `file` when given. */
function preview(limit: number, file: string | undefined) {
  const lines: string[] = [];
  let pending = '';
  const target = file === undefined ? undefined : createWriteStream(file);
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (lines.length < limit) {
        pending += chunk.toString('utf8');
        const parts = pending.split('\n');
        pending = parts.pop() ?? '';
        lines.push(...parts.slice(0, limit - lines.length));
      }
      if (target === undefined) callback();
      else target.write(chunk, callback);
    },
  });
  return {
    stream,
    lines,
    async close() {
      if (target === undefined) return;
      target.end();
      await finished(target);
    },
  };
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const message = error instanceof UsageError || isAppError(error) ? error.message : String(error);
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
