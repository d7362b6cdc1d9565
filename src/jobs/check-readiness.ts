import type { JobStore } from './job-store.ts';

export interface Readiness {
  readonly ready: boolean;
  /** Why not, one sentence each. */
  readonly problems: readonly string[];
}

/** Ready while the instance accepts work and its job store answers. */
export function createReadinessCheck(deps: {
  readonly store: Pick<JobStore, 'ping'>;
  readonly accepting: () => boolean;
}): () => Promise<Readiness> {
  return async () => {
    const problems: string[] = [];
    if (!deps.accepting()) problems.push('The service is shutting down.');
    if (!(await deps.store.ping().catch(() => false))) problems.push('The job store does not answer.');
    return { ready: problems.length === 0, problems };
  };
}
