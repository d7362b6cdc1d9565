import { expect } from 'chai';
import { Subject } from 'rxjs';
import { followJobChanges } from '../../src/jobs/follow-job-changes.ts';
import type { Job, JobLifecycleEvent, JobProgress } from '../../src/jobs/job.ts';
import { queuedJob } from '../helpers/queued-job.ts';

const progress = (rows: number): JobProgress => ({ bytesRead: rows * 10, totalBytes: null, rows, rejected: 0 });
const output = { bucket: 'ingest', rows: 'r', rejects: 'j', manifest: 'm' };

describe('followJobChanges', () => {
  let local: Subject<JobLifecycleEvent>;
  let hints: Subject<readonly string[]>;
  let rows: Map<string, Job>;
  let shown: string[];
  let completed: boolean;
  let reads: string[][];

  const settle = () => new Promise((resolve) => setTimeout(resolve, 40));
  const row = (job: Job, patch: Partial<Job>) => rows.set(patch.id ?? job.id, { ...job, ...patch });

  beforeEach(() => {
    local = new Subject();
    hints = new Subject();
    rows = new Map();
    shown = [];
    completed = false;
    reads = [];
    followJobChanges(local, {
      hints$: hints,
      fetchJobs: async (ids) => {
        reads.push([...ids]);
        return ids.flatMap((id) => rows.get(id) ?? []);
      },
      runner: 'here',
      batchMs: 10,
    }).subscribe({
      next: (event) => shown.push(`${event.job.id.slice(0, 4)} ${event.type}`),
      complete: () => (completed = true),
    });
  });

  it('should show the changes of a job run elsewhere once each, from the rows its hints name', async () => {
    const job = queuedJob({ key: 'a.csv' });
    row(job, { id: 'away', status: 'running', runner: 'there', attempts: 1, progress: progress(10) });
    hints.next(['away']);
    hints.next(['away']);
    await settle();
    expect(reads, 'hints close together read once').to.deep.equal([['away']]);
    expect(shown).to.deep.equal(['away queued', 'away started', 'away progress']);

    hints.next(['away']);
    await settle();
    expect(shown, 'the same row again shows nothing').to.have.length(3);
    row(job, { id: 'away', status: 'running', runner: 'there', attempts: 1, progress: progress(20) });
    hints.next(['away']);
    await settle();
    row(job, { id: 'away', status: 'succeeded', runner: 'there', attempts: 1, output, progress: progress(30) });
    hints.next(['away']);
    await settle();
    hints.next(['away']);
    await settle();
    expect(shown.slice(3)).to.deep.equal(['away progress', 'away succeeded']);
  });

  it("should leave a job running here to this instance's events, and show a change of it once", async () => {
    const job = { ...queuedJob({ key: 'b.csv' }), id: 'mine' };
    local.next({ type: 'started', job, attempt: 1 });
    row(job, { status: 'running', runner: 'here', attempts: 1, progress: progress(5) });
    hints.next(['mine']);
    await settle();
    expect(shown).to.deep.equal(['mine started']);

    // Cancelled through another instance: its row says so before this instance's own event does.
    row(job, { status: 'cancelled', runner: 'here', attempts: 1 });
    hints.next(['mine']);
    await settle();
    local.next({ type: 'cancelled', job, attempt: 1 });
    expect(shown).to.deep.equal(['mine started', 'mine cancelled']);
  });

  it('should not show a release, and end with the local stream', async () => {
    const job = { ...queuedJob({ key: 'c.csv' }), id: 'lost' };
    local.next({ type: 'started', job, attempt: 1 });
    local.next({ type: 'released', job, attempt: 1 });
    row(job, { status: 'running', runner: 'there', attempts: 2, progress: progress(1) });
    hints.next(['lost']);
    await settle();
    expect(shown).to.deep.equal(['lost started', 'lost started', 'lost progress']);
    local.complete();
    expect(completed).to.equal(true);
  });
});
