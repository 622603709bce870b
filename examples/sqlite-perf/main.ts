/**
 * The tuned SQLite layer alone: concurrent async writers on one queue, exact 64-bit
 * integers, a chunked batch insert that names its failing row, typed Kysely queries
 * routed to the readers, an index advisor run, and the metrics it all records.
 *
 *   node --conditions=source --import tsx examples/sqlite-perf/main.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMetricsRegistry } from '@agentnode/metrics';
import { type Generated, isSqlitePerfError, openDatabase } from '@agentnode/sqlite-perf';

interface Schema {
  jobs: { id: Generated<number>; owner: string; state: string; size: bigint };
}

const dir = mkdtempSync(join(tmpdir(), 'sqlite-perf-example-'));
const metrics = createMetricsRegistry({ collectSystem: false });
const db = openDatabase(join(dir, 'jobs.db'), { metrics, readerThreads: 1, integers: 'bigint' });

try {
  await db.write((tx) =>
    tx.exec(
      'CREATE TABLE jobs (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, state TEXT NOT NULL, size INTEGER NOT NULL)',
    ),
  );

  // Two tasks write 100 rows each, awaiting between transactions: the queue
  // serializes them, so no transaction waits on another's lock.
  const writer = async (owner: string) => {
    for (let n = 0; n < 100; n++) {
      await db.write((tx) =>
        tx.run('INSERT INTO jobs (owner, state, size) VALUES (?, ?, ?)', [
          owner,
          n % 3 ? 'done' : 'queued',
          n,
        ]),
      );
    }
  };
  await Promise.all([writer('alice'), writer('bob')]);
  const { n } = (await db.queryOne<{ n: bigint }>('SELECT count(*) AS n FROM jobs'))!;
  console.log(`rows after two concurrent writers: ${n}`);

  // readSync returns at once, without a promise: for hot paths and synchronous code.
  const done = db.readSync((conn) =>
    conn.get<{ n: bigint }>("SELECT count(*) AS n FROM jobs WHERE state = 'done'"),
  );
  console.log(`done jobs (readSync): ${done?.n}`);

  // A value past 2^53 round-trips exactly as a bigint; the same value as a JS
  // number is rejected instead of being rounded.
  const huge = 2n ** 62n + 1n;
  await db.write((tx) =>
    tx.run("INSERT INTO jobs (owner, state, size) VALUES ('carol', 'queued', ?)", [huge]),
  );
  const back = await db.queryOne<{ size: bigint }>("SELECT size FROM jobs WHERE owner = 'carol'");
  console.log(`64-bit size round-trips exactly: ${back?.size === huge}`);
  try {
    await db.write((tx) =>
      tx.run('INSERT INTO jobs (owner, state, size) VALUES (?, ?, ?)', ['dave', 'queued', 2 ** 60]),
    );
  } catch (error) {
    console.log(`unsafe number rejected: ${isSqlitePerfError(error) ? error.code : error}`);
  }

  // insertMany: one transaction per chunk; a bad row rolls back only its chunk.
  const rows = Array.from({ length: 250 }, (_, i) => ({
    owner: 'batch',
    state: 'queued',
    size: BigInt(i),
  }));
  rows[130] = { owner: 'batch', state: null as unknown as string, size: 0n };
  try {
    await db.insertMany('jobs', rows, { chunkSize: 100 });
  } catch (error) {
    if (isSqlitePerfError(error, 'INSERT_FAILED')) {
      console.log(
        `insertMany failed at row ${error.rowIndex}; the first chunk of 100 stays committed`,
      );
    }
  }

  // Kysely: SELECTs go to the reader worker, writes and transactions to the writer.
  const kysely = db.kysely<Schema>();
  await kysely.transaction().execute(async (trx) => {
    await trx.updateTable('jobs').set({ state: 'running' }).where('owner', '=', 'carol').execute();
  });
  const queued = await kysely
    .selectFrom('jobs')
    .select((eb) => eb.fn.countAll<bigint>().as('count'))
    .where('state', '=', 'queued')
    .executeTakeFirstOrThrow();
  console.log(`queued jobs (Kysely): ${queued.count}`);

  // The advisor tries candidate indexes on a sampled copy and keeps the ones used.
  const advice = await db.adviseIndexes(['SELECT id FROM jobs WHERE owner = ? AND state = ?']);
  for (const index of advice) {
    console.log(`advised: ${index.createSql}`);
  }

  const stats = db.stats();
  console.log(`statement cache hit rate: ${(stats.statementCache.hitRate * 100).toFixed(0)}%`);
  const exposition = await metrics.metrics();
  const names = [...exposition.matchAll(/^# TYPE (agentnode_db_\S+)/gm)].map((match) => match[1]);
  console.log(`metrics: ${names.sort().join(', ')}`);
} finally {
  await db.close();
  metrics.close();
  rmSync(dir, { recursive: true, force: true });
}
