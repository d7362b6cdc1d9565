import { readdir, readFile } from 'node:fs/promises';

/** Peak and current resident set size of a process, in MB, from /proc (Linux). */
export async function memoryOf(pid: number): Promise<{ peakMb: number; rssMb: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { peakMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export async function cpuSecondsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the command name.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * CPU seconds the whole machine has spent busy so far (every process and the kernel: all
 * but idle and I/O wait), from /proc/stat (Linux). Over a run, busy seconds ÷ wall seconds
 * is how many of the machine's cores were in use.
 */
export async function machineBusySecondsOf(): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0] ?? '';
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already within user).
  const [user, nice, system, , , irq, softirq, steal] = ticks;
  return ((user ?? NaN) + (nice ?? NaN) + (system ?? NaN) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / 100;
}

/** Samples `GET url` latency every `intervalMs` until `stop` resolves; returns p50/p99 in ms. */
export async function sampleLatency(
  url: string,
  intervalMs: number,
  stop: Promise<unknown>,
): Promise<{ p50: number; p99: number; n: number }> {
  const samples: number[] = [];
  let done = false;
  void stop.finally(() => {
    done = true;
  });
  while (!done) {
    const started = performance.now();
    const response = await fetch(url);
    await response.arrayBuffer();
    samples.push(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return { ...percentiles(samples), n: samples.length };
}

export function percentiles(samples: readonly number[]): { p50: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { p50: round(at(0.5)), p99: round(at(0.99)) };
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * CPU seconds of a process and its children: the live ones, and (cutime, cstime) the
 * ones it has reaped. PostgreSQL's backends are children of its postmaster.
 */
export async function cpuSecondsOfTree(pid: number): Promise<number> {
  const fieldsOf = async (id: number) => {
    const stat = await readFile(`/proc/${id}/stat`, 'utf8').catch(() => undefined);
    return stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
  };
  const own = await fieldsOf(pid);
  if (own === undefined) return NaN;
  let seconds = (Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14])) / 100;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = await fieldsOf(Number(entry));
    // ppid is field 4 of the whole line: index 1 after the command name.
    if (fields !== undefined && Number(fields[1]) === pid) seconds += (Number(fields[11]) + Number(fields[12])) / 100;
  }
  return seconds;
}

/**
 * One thread's CPU seconds and seconds spent runnable but waiting for a core, from
 * /proc (Linux schedstat): a thread slow to answer while using little CPU is waiting for the machine.
 */
export async function threadTimesOf(pid: number, tid = pid): Promise<{ cpuSeconds: number; waitSeconds: number }> {
  const [cpu, wait] = (await readFile(`/proc/${pid}/task/${tid}/schedstat`, 'utf8')).split(' ').map(Number);
  return { cpuSeconds: (cpu ?? NaN) / 1e9, waitSeconds: (wait ?? NaN) / 1e9 };
}

/**
 * A trivial HTTP server in its own process: its latency, sampled beside the service's, is what the
 * machine's scheduling alone gives under the same load. Returns its URL and a stop function.
 */
export async function startControlServer(): Promise<{ url: string; stop: () => void }> {
  const { spawn } = await import('node:child_process');
  const child = spawn(
    process.execPath,
    [
      '-e',
      "const s=require('node:http').createServer((q,r)=>r.end('ok')).listen(0,'127.0.0.1',()=>console.log(s.address().port))",
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<string>((resolve) =>
    child.stdout.once('data', (data: Buffer) => resolve(String(data).trim())),
  );
  return { url: `http://127.0.0.1:${port}/`, stop: () => void child.kill() };
}

/**
 * CPU seconds of a process's threads, in groups: its main thread, its job threads (nice 5)
 * and parse threads (nice 10), which lower their own priority as they start, and all the
 * others (V8's and libuv's helpers). Threads that ended meanwhile are not counted.
 */
export async function threadGroupsOf(
  pid: number,
): Promise<{ main: number; job: number; parse: number; other: number }> {
  const groups = { main: 0, job: 0, parse: 0, other: 0 };
  for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [])) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => undefined);
    if (stat === undefined) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime and nice are fields 14, 15 and 19 of the whole line.
    const seconds = (Number(fields[11]) + Number(fields[12])) / 100;
    const nice = Number(fields[16]);
    const group = Number(tid) === pid ? 'main' : nice === 10 ? 'parse' : nice === 5 ? 'job' : 'other';
    groups[group] += seconds;
  }
  return groups;
}
