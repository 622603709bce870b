import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Database, openDatabase } from '@agentnode/sqlite-perf';
import BetterSqlite3 from 'better-sqlite3';
import {
  type DatabaseConnection,
  type Driver,
  type Generated,
  Kysely,
  SqliteAdapter,
  SqliteDialect,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';
import { type BenchRow, compare, type SuiteOptions } from './harness';

const AREA = 'Database';
const ROWS = 10_000;
const QUERY_BATCH = 100;
const INSERT_BATCH = 20;

interface BenchSchema {
  items: { id: Generated<number>; k: number; v: string };
}

const atMost = (limit: number) => ({
  target: `at most ${limit}x raw`,
  meets: (ratio: number) => ratio <= limit,
});

/**
 * agentnode's SQLite layer against raw better-sqlite3 prepared statements on the same
 * file, Kysely through agentnode's dialect against Kysely's stock SqliteDialect, and
 * reads in two worker threads against one main-thread connection under a mixed load.
 */
export async function run(options: SuiteOptions): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'agentnode-sqlite-bench-'));
  const db = openDatabase(join(dir, 'agentnode.db'), { checkpoint: false });
  const raw = new BetterSqlite3(join(dir, 'raw.db'));
  try {
    await createSchema(db, raw);
    const rows: BenchRow[] = [];
    rows.push(...(await compareCore(db, raw, options)));
    rows.push(...(await compareKysely(db, options)));
    rows.push(await compareReaderThreads(dir, options));
    return rows;
  } finally {
    await db.close();
    raw.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function createSchema(db: Database, raw: BetterSqlite3.Database): Promise<void> {
  // Inserts go to `writes`, so `items` keeps exactly ROWS rows for the read benchmarks.
  const schema =
    'CREATE TABLE items (id INTEGER PRIMARY KEY, k INTEGER NOT NULL, v TEXT NOT NULL);' +
    'CREATE INDEX items_k ON items (k);' +
    'CREATE TABLE writes (id INTEGER PRIMARY KEY, k INTEGER NOT NULL, v TEXT NOT NULL);' +
    'CREATE INDEX writes_k ON writes (k);';
  const seed = Array.from({ length: ROWS }, (_, index) => ({ k: index, v: `value-${index}` }));

  await db.write((tx) => tx.exec(schema));
  await db.insertMany('items', seed);

  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.exec(schema);
  const insert = raw.prepare('INSERT INTO items (k, v) VALUES (?, ?)');
  raw.transaction(() => {
    for (const row of seed) {
      insert.run(row.k, row.v);
    }
  })();
}

async function compareCore(
  db: Database,
  raw: BetterSqlite3.Database,
  options: SuiteOptions,
): Promise<BenchRow[]> {
  const insertSql = 'INSERT INTO writes (k, v) VALUES (?, ?)';
  const querySql = 'SELECT id, k, v FROM items WHERE k = ?';
  const rawInsert = raw.prepare(insertSql);
  const rawQuery = raw.prepare(querySql);
  const rawSelectOne = raw.prepare('SELECT 1 AS one');
  const batchOf100 = Array.from({ length: 100 }, (_, index) => ({ k: ROWS + index, v: 'batch' }));
  let key = 0;
  const nextKey = () => {
    key = (key + 7919) % ROWS;
    return key;
  };

  const single = await compare(
    { area: AREA, operation: 'single insert', claimedAfter: '0.8 ms', ...atMost(1.3) },
    {
      name: 'agentnode db.write(run INSERT)',
      batch: INSERT_BATCH,
      async fn() {
        for (let i = 0; i < INSERT_BATCH; i++) {
          await db.write((tx) => tx.run(insertSql, [i, 'single']));
        }
      },
    },
    {
      name: 'raw better-sqlite3 prepared INSERT (autocommit)',
      batch: INSERT_BATCH,
      fn() {
        for (let i = 0; i < INSERT_BATCH; i++) {
          rawInsert.run(i, 'single');
        }
      },
    },
    options,
  );

  const batch = await compare(
    { area: AREA, operation: 'batch insert (100)', claimedAfter: '12 ms', ...atMost(1.3) },
    {
      name: 'agentnode db.insertMany(100 rows)',
      fn: () => db.insertMany('writes', batchOf100),
    },
    {
      name: 'raw better-sqlite3 prepared INSERT x100 in one transaction',
      fn: raw.transaction(() => {
        for (const row of batchOf100) {
          rawInsert.run(row.k, row.v);
        }
      }),
    },
    options,
  );

  const indexed = await compare(
    { area: AREA, operation: 'indexed query', claimedAfter: '0.3 ms', ...atMost(1.3) },
    {
      name: 'agentnode db.read(get by indexed column)',
      batch: QUERY_BATCH,
      async fn() {
        for (let i = 0; i < QUERY_BATCH; i++) {
          await db.read((conn) => conn.get(querySql, [nextKey()]));
        }
      },
    },
    {
      name: 'raw better-sqlite3 prepared get by indexed column',
      batch: QUERY_BATCH,
      fn() {
        for (let i = 0; i < QUERY_BATCH; i++) {
          rawQuery.get(nextKey());
        }
      },
    },
    options,
  );

  const rawSelectOneSubject = {
    name: 'raw better-sqlite3 prepared SELECT 1',
    batch: QUERY_BATCH,
    fn() {
      for (let i = 0; i < QUERY_BATCH; i++) {
        rawSelectOne.get();
      }
    },
  };
  const acquire = await compare(
    {
      area: AREA,
      operation: 'connection get, synchronous (db.readSync)',
      claimedAfter: '5 ms',
      ...atMost(1.3),
      note: 'SELECT 1 through db.readSync, which uses a connection kept for synchronous reads, not the pool; the raw baseline holds one open connection',
    },
    {
      name: 'agentnode db.readSync(SELECT 1)',
      batch: QUERY_BATCH,
      fn() {
        for (let i = 0; i < QUERY_BATCH; i++) {
          db.readSync((conn) => conn.get('SELECT 1 AS one'));
        }
      },
    },
    rawSelectOneSubject,
    options,
  );
  const asyncAcquire = await compare(
    {
      area: AREA,
      operation: 'connection pool get, awaited (db.read)',
      claimedAfter: '5 ms',
      note: 'SELECT 1 through await db.read: pool spare or tarn acquire, release and one promise per read; no target of its own',
    },
    {
      name: 'agentnode await db.read(SELECT 1)',
      batch: QUERY_BATCH,
      async fn() {
        for (let i = 0; i < QUERY_BATCH; i++) {
          await db.read((conn) => conn.get('SELECT 1 AS one'));
        }
      },
    },
    rawSelectOneSubject,
    options,
  );

  return [single, batch, indexed, acquire, asyncAcquire];
}

/**
 * Returns a Kysely dialect whose driver returns no rows for every query at once, so timing
 * a query through it measures Kysely's own building, compiling and running.
 */
function noOpDialect() {
  const connection: DatabaseConnection = {
    executeQuery: async () => ({ rows: [] }),
    streamQuery: async function* () {},
  };
  const driver: Driver = {
    init: async () => {},
    acquireConnection: async () => connection,
    beginTransaction: async () => {},
    commitTransaction: async () => {},
    rollbackTransaction: async () => {},
    releaseConnection: async () => {},
    destroy: async () => {},
  };
  return {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => driver,
    createIntrospector: (kysely: Kysely<unknown>) => new SqliteIntrospector(kysely),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  };
}

async function compareKysely(db: Database, options: SuiteOptions): Promise<BenchRow[]> {
  const ours = db.kysely<BenchSchema>();
  const stockConnection = new BetterSqlite3(db.path, { readonly: true });
  const stock = new Kysely<BenchSchema>({
    dialect: new SqliteDialect({ database: stockConnection }),
  });
  let key = 0;
  const query = (kysely: Kysely<BenchSchema>) => {
    key = (key + 7919) % ROWS;
    return kysely.selectFrom('items').select(['id', 'k', 'v']).where('k', '=', key).execute();
  };

  const stockSubject = {
    name: 'Kysely SqliteDialect on one better-sqlite3 connection',
    batch: QUERY_BATCH,
    async fn() {
      for (let i = 0; i < QUERY_BATCH; i++) {
        await query(stock);
      }
    },
  };
  const noOp = new Kysely<BenchSchema>({ dialect: noOpDialect() });

  try {
    const ratioRow = await compare(
      {
        area: AREA,
        operation: 'indexed query through Kysely',
        claimedAfter: '0.3 ms',
        target: 'at least 2x faster than the stock dialect (ratio at most 0.5)',
        meets: (ratio) => ratio <= 0.5,
      },
      {
        name: 'Kysely on agentnode dialect',
        batch: QUERY_BATCH,
        async fn() {
          for (let i = 0; i < QUERY_BATCH; i++) {
            await query(ours);
          }
        },
      },
      stockSubject,
      options,
    );
    const floorRow = await compare(
      {
        area: AREA,
        operation: "Kysely's own cost: the same query on a no-op driver",
        note: 'the floor of any dialect: building, compiling and running the query with a driver that does nothing; no target of its own',
      },
      {
        name: 'Kysely on a no-op driver',
        batch: QUERY_BATCH,
        async fn() {
          for (let i = 0; i < QUERY_BATCH; i++) {
            await query(noOp);
          }
        },
      },
      stockSubject,
      options,
    );
    return [ratioRow, floorRow];
  } finally {
    await stock.destroy();
    await noOp.destroy();
  }
}

// One unit of main-thread work in the mixed load, serializing records, sized to
// take about as long as one range scan so that both sides of the load matter.
function mainThreadWork(seed: number): number {
  let text = '';
  for (let i = 0; i < 300; i++) {
    text += JSON.stringify({ seed, i, items: [seed, i, seed * i] });
  }
  return text.length;
}

async function compareReaderThreads(dir: string, options: SuiteOptions): Promise<BenchRow> {
  const path = join(dir, 'agentnode.db');
  const threaded = openDatabase(path, { readerThreads: 2, checkpoint: false });
  const single = openDatabase(path, { maxReaders: 1, checkpoint: false });
  // A range scan heavy enough that running it elsewhere pays for the message hop.
  const scanSql =
    'SELECT count(*) AS n, sum(length(v)) AS bytes FROM items WHERE k BETWEEN ? AND ?';
  const READS = 8;
  let sink = 0;
  const mixedLoad = async (db: Database) => {
    const reads: Promise<unknown>[] = [];
    for (let i = 0; i < READS; i++) {
      const from = (i * 997) % ROWS;
      reads.push(db.query(scanSql, [from, from + 3_000]));
      sink += mainThreadWork(i);
    }
    await db.write((tx) => tx.run('UPDATE items SET v = v WHERE id = 1'));
    await Promise.all(reads);
  };

  try {
    await mixedLoad(threaded);
    const row = await compare(
      {
        area: AREA,
        operation: `read throughput, mixed load (${READS} range scans + main-thread work + 1 write)`,
        target: 'faster than one connection (ratio below 1)',
        meets: (ratio) => ratio < 1,
        note: 'readerThreads: 2 vs maxReaders: 1 on the same file',
      },
      { name: 'agentnode readerThreads: 2', fn: () => mixedLoad(threaded) },
      { name: 'agentnode one main-thread reader', fn: () => mixedLoad(single) },
      options,
    );
    return sink >= 0 ? row : row;
  } finally {
    await threaded.close();
    await single.close();
  }
}
