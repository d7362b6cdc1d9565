import type { Child } from '../spec/helpers/child-process.ts';

/** Triggers the keys at once and waits until every job has succeeded. */
export async function runJobs(svc: Child & { url: string }, keys: readonly string[]): Promise<void> {
  const ids = await Promise.all(
    keys.map(async (key) => {
      const response = await fetch(`${svc.url}/v1/trigger`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ key }),
      });
      const body = (await response.json()) as { jobs: { id: string }[] };
      if (response.status !== 202) throw new Error(`trigger ${key}: ${response.status} ${JSON.stringify(body)}`);
      return body.jobs[0]!.id;
    }),
  );
  for (;;) {
    const jobs = await Promise.all(
      ids.map(
        async (id) => (await (await fetch(`${svc.url}/v1/jobs/${id}`)).json()) as { status: string; error: unknown },
      ),
    );
    const failed = jobs.find((job) => job.status === 'failed' || job.status === 'cancelled');
    if (failed) throw new Error(`a job failed: ${JSON.stringify(failed)}`);
    if (jobs.every((job) => job.status === 'succeeded')) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function timed<T>(work: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { seconds: (performance.now() - started) / 1000, value };
}

export async function stopService(svc: Child): Promise<void> {
  svc.process.kill('SIGTERM');
  await svc.exited;
}

export const bestOf = <R extends { seconds: number }>(runs: readonly R[]): R =>
  runs.reduce((best, run) => (run.seconds < best.seconds ? run : best));
