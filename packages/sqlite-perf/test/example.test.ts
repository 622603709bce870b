import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

describe('examples/sqlite-perf', () => {
  it('runs and prints what each feature did', () => {
    const result = spawnSync(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', 'examples/sqlite-perf/main.ts'],
      { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 },
    );

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const lines = result.stdout;
    expect(lines).toContain('rows after two concurrent writers: 200');
    expect(lines).toContain('done jobs (readSync): 132');
    expect(lines).toContain('64-bit size round-trips exactly: true');
    expect(lines).toContain('unsafe number rejected: UNSAFE_INTEGER');
    expect(lines).toContain('insertMany failed at row 130');
    expect(lines).toContain('queued jobs (Kysely): 168');
    expect(lines).toContain('advised: CREATE INDEX IF NOT EXISTS "idx_jobs_owner_state"');
    expect(lines).toMatch(/statement cache hit rate: \d+%/);
    for (const metric of [
      'agentnode_db_busy_retries_total',
      'agentnode_db_checkpoints_total',
      'agentnode_db_pool_acquire_wait_seconds',
      'agentnode_db_pool_connections',
      'agentnode_db_query_duration_seconds',
      'agentnode_db_statement_cache_hit_ratio',
      'agentnode_db_statement_cache_lookups_total',
      'agentnode_db_wal_size_bytes',
      'agentnode_db_write_queue_depth',
    ]) {
      expect(lines).toContain(metric);
    }
  });
});
