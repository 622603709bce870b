import BetterSqlite3 from 'better-sqlite3';
import { describe } from './config';
import type { Connection } from './connection';
import { SqlitePerfError } from './errors';

import type { SqlParameters } from './integers';
import { type SqlToken, tokenize } from './sql-tokens';

/** A query to advise on: SQL text, optionally with representative parameters. */
export type AdvisedQuery = string | { readonly sql: string; readonly params?: SqlParameters };

/** Per-call options of `db.adviseIndexes`. */
export interface AdviseIndexesOptions {
  /** Rows copied per table into the sample the planner is tested on. @default 10000 */
  readonly sampleRows?: number;
  /** Columns per candidate index at most. @default 3 */
  readonly maxColumns?: number;
  /** Create the advised indexes on the real database. @default false */
  readonly apply?: boolean;
}

/** One index the planner would use. */
export interface IndexAdvice {
  /** Suggested index name, `idx_<table>_<columns>`. */
  readonly name: string;
  readonly table: string;
  readonly columns: readonly string[];
  /** `CREATE INDEX IF NOT EXISTS ...` for this index. */
  readonly createSql: string;
  /** The queries whose plan uses this index, as given. */
  readonly queries: readonly string[];
  /** Each helped query's plan without and with the index (`EXPLAIN QUERY PLAN` details). */
  readonly plans: readonly {
    readonly sql: string;
    readonly before: string[];
    readonly after: string[];
  }[];
}

interface ColumnUse {
  readonly equality: string[];
  readonly range: string[];
  readonly order: string[];
}

interface ParsedQuery {
  readonly sql: string;
  readonly params: SqlParameters;
  /** Column use per table name. */
  readonly uses: Map<string, ColumnUse>;
}

// Metadata reads need plain numbers whatever the database's `integers` setting is.
const AS_NUMBERS = { integers: 'number' } as const;

const CLAUSE_WORDS = new Set([
  'WHERE',
  'JOIN',
  'INNER',
  'LEFT',
  'RIGHT',
  'FULL',
  'CROSS',
  'OUTER',
  'NATURAL',
  'ON',
  'USING',
  'GROUP',
  'ORDER',
  'LIMIT',
  'HAVING',
  'UNION',
  'EXCEPT',
  'INTERSECT',
  'WINDOW',
  'SET',
  'VALUES',
  'INDEXED',
  'NOT',
  'RETURNING',
  'SELECT',
  'FROM',
  'AS',
  'OFFSET',
]);
const EQUALITY_OPERATORS = new Set(['=', '==', 'IS', 'IN']);
const RANGE_OPERATORS = new Set(['<', '>', '<=', '>=', 'BETWEEN', 'LIKE', 'GLOB']);

/**
 * Advises indexes for `queries` by testing candidates on an in-memory sample copy
 * of the database; see `Database.adviseIndexes`. Reads `connection` only.
 */
export function adviseIndexes(
  connection: Connection,
  queries: readonly AdvisedQuery[],
  options: AdviseIndexesOptions = {},
): IndexAdvice[] {
  if (!Array.isArray(queries)) {
    throw new SqlitePerfError(
      'INVALID_ARGUMENT',
      `Invalid queries ${describe(queries)}: must be an array.`,
    );
  }
  const sampleRows = options.sampleRows ?? 10_000;
  const maxColumns = options.maxColumns ?? 3;
  for (const [name, value] of [
    ['sampleRows', sampleRows],
    ['maxColumns', maxColumns],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new SqlitePerfError(
        'INVALID_ARGUMENT',
        `Invalid ${name} ${describe(value)}: must be an integer >= 1.`,
      );
    }
  }

  const schema = readSchema(connection);
  const parsed = queries.map((query) => parseQuery(query, schema.columns));
  const sample = copySample(connection, schema, sampleRows);
  try {
    return evaluateCandidates(sample, parsed, schema, maxColumns);
  } finally {
    sample.close();
  }
}

interface Schema {
  /** CREATE statements of tables, then of indexes, as stored in sqlite_schema. */
  readonly tables: { name: string; sql: string; withoutRowid: boolean }[];
  /** CREATE statements of indexes and views, run on the copy after the tables. */
  readonly indexSql: string[];
  /** Column names per table name (lower-cased keys). */
  readonly columns: Map<string, { table: string; names: string[] }>;
  /** Column lists of existing indexes per table (lower-cased table). */
  readonly existingIndexes: Map<string, string[][]>;
  /** The INTEGER PRIMARY KEY column per table (lower-cased both): an alias of the rowid. */
  readonly rowidAliases: Map<string, string>;
}

function readSchema(connection: Connection): Schema {
  const entries = connection.all<{ type: string; name: string; tbl_name: string; sql: string }>(
    "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' AND type IN ('table', 'index', 'view') ORDER BY type = 'view', rowid",
  );
  const schema: Schema = {
    tables: [],
    indexSql: [],
    columns: new Map(),
    existingIndexes: new Map(),
    rowidAliases: new Map(),
  };
  for (const entry of entries) {
    if (entry.type === 'table') {
      if (/^\s*CREATE\s+VIRTUAL/i.test(entry.sql)) {
        continue;
      }
      schema.tables.push({
        name: entry.name,
        sql: entry.sql,
        withoutRowid: /WITHOUT\s+ROWID/i.test(entry.sql),
      });
      const columns = connection.all<{ name: string; type: string; pk: number }>(
        'SELECT name, type, pk FROM pragma_table_info(?)',
        [entry.name],
        AS_NUMBERS,
      );
      schema.columns.set(entry.name.toLowerCase(), {
        table: entry.name,
        names: columns.map((column) => column.name),
      });
      const keys = columns.filter((column) => column.pk > 0);
      if (
        keys.length === 1 &&
        keys[0]!.type.toUpperCase() === 'INTEGER' &&
        !/WITHOUT\s+ROWID/i.test(entry.sql)
      ) {
        schema.rowidAliases.set(entry.name.toLowerCase(), keys[0]!.name.toLowerCase());
      }
    } else {
      schema.indexSql.push(entry.sql);
    }
  }
  for (const { name } of schema.tables) {
    const lists = connection
      .all<{ name: string }>('SELECT name FROM pragma_index_list(?)', [name])
      .map((index) =>
        connection
          .all<{ name: string | null }>('SELECT name FROM pragma_index_info(?) ORDER BY seqno', [
            index.name,
          ])
          .map((column) => (column.name ?? '').toLowerCase()),
      );
    schema.existingIndexes.set(name.toLowerCase(), lists);
  }

  return schema;
}

function parseQuery(query: AdvisedQuery, columns: Schema['columns']): ParsedQuery {
  const sql = typeof query === 'string' ? query : query?.sql;
  if (typeof sql !== 'string' || sql.trim().length === 0) {
    throw new SqlitePerfError(
      'INVALID_ARGUMENT',
      `Invalid query ${describe(query)}: must be SQL text or { sql, params }.`,
    );
  }
  const tokens = tokenize(sql);
  const aliases = findTables(tokens, columns);
  const uses = new Map<string, ColumnUse>();
  const useOf = (table: string) => {
    let use = uses.get(table);
    if (use === undefined) {
      use = { equality: [], range: [], order: [] };
      uses.set(table, use);
    }
    return use;
  };

  let clause: 'where' | 'order' | 'other' = 'other';
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index]!;
    if (token.kind === 'word') {
      if (token.upper === 'WHERE' || token.upper === 'ON' || token.upper === 'HAVING') {
        clause = 'where';
        continue;
      }
      if (
        (token.upper === 'ORDER' || token.upper === 'GROUP') &&
        tokens[index + 1]?.upper === 'BY'
      ) {
        clause = 'order';
        index++;
        continue;
      }
      if (
        ['LIMIT', 'SELECT', 'FROM', 'JOIN', 'UNION', 'RETURNING', 'SET', 'WINDOW'].includes(
          token.upper,
        )
      ) {
        clause = 'other';
        continue;
      }
    }
    if (clause === 'other') {
      continue;
    }
    const reference = columnAt(tokens, index, aliases, columns);
    if (reference === undefined) {
      continue;
    }
    index = reference.lastIndex;
    const use = useOf(reference.table);
    if (clause === 'order') {
      pushOnce(use.order, reference.column);
      continue;
    }
    const operator = operatorNear(tokens, reference.firstIndex, reference.lastIndex);
    if (operator !== undefined && EQUALITY_OPERATORS.has(operator)) {
      pushOnce(use.equality, reference.column);
    } else if (operator !== undefined && RANGE_OPERATORS.has(operator)) {
      pushOnce(use.range, reference.column);
    }
  }

  const params =
    typeof query === 'string' || query.params === undefined
      ? placeholderNulls(tokens)
      : query.params;

  return { sql, params, uses };
}

/** Maps every table name and alias in FROM/JOIN/UPDATE/INTO clauses to its table. */
function findTables(tokens: SqlToken[], columns: Schema['columns']): Map<string, string> {
  const aliases = new Map<string, string>();
  let inFrom = false;
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index]!;
    const upper = token.kind === 'word' ? token.upper : '';
    if (upper === 'FROM' || upper === 'JOIN' || upper === 'UPDATE' || upper === 'INTO') {
      inFrom = upper === 'FROM';
      index = readTable(tokens, index + 1, columns, aliases);
    } else if (inFrom && token.text === ',') {
      index = readTable(tokens, index + 1, columns, aliases);
    } else if (upper !== '' && CLAUSE_WORDS.has(upper) && upper !== 'AS') {
      inFrom = false;
    }
  }

  return aliases;
}

function readTable(
  tokens: SqlToken[],
  start: number,
  columns: Schema['columns'],
  aliases: Map<string, string>,
): number {
  let index = start;
  let name = tokens[index];
  // Skip a schema qualifier: main.tools
  if (tokens[index + 1]?.text === '.' && tokens[index + 2] !== undefined) {
    index += 2;
    name = tokens[index];
  }
  if (name === undefined || (name.kind !== 'word' && name.kind !== 'identifier')) {
    return start - 1;
  }
  const table = columns.get(name.text.toLowerCase())?.table;
  if (table === undefined) {
    return index;
  }
  aliases.set(name.text.toLowerCase(), table);
  let next = tokens[index + 1];
  if (next?.upper === 'AS') {
    index++;
    next = tokens[index + 1];
  }
  if (
    next !== undefined &&
    (next.kind === 'identifier' || (next.kind === 'word' && !CLAUSE_WORDS.has(next.upper)))
  ) {
    aliases.set(next.text.toLowerCase(), table);
    index++;
  }

  return index;
}

function columnAt(
  tokens: SqlToken[],
  index: number,
  aliases: Map<string, string>,
  columns: Schema['columns'],
): { table: string; column: string; firstIndex: number; lastIndex: number } | undefined {
  const token = tokens[index]!;
  if (token.kind !== 'word' && token.kind !== 'identifier') {
    return undefined;
  }
  if (tokens[index + 1]?.text === '(') {
    return undefined;
  }
  if (tokens[index + 1]?.text === '.' && tokens[index + 2] !== undefined) {
    const table = aliases.get(token.text.toLowerCase());
    const column = tokens[index + 2]!.text;
    const names = table === undefined ? undefined : columns.get(table.toLowerCase())?.names;
    const match = names?.find((name) => name.toLowerCase() === column.toLowerCase());
    return table === undefined || match === undefined
      ? undefined
      : { table, column: match, firstIndex: index, lastIndex: index + 2 };
  }
  if (tokens[index - 1]?.text === '.') {
    return undefined;
  }
  // A bare column belongs to the one table of the query that has it; ambiguous names are skipped.
  const owners = [...new Set(aliases.values())].filter((table) =>
    columns
      .get(table.toLowerCase())
      ?.names.some((name) => name.toLowerCase() === token.text.toLowerCase()),
  );
  if (owners.length !== 1) {
    return undefined;
  }
  const names = columns.get(owners[0]!.toLowerCase())!.names;
  const column = names.find((name) => name.toLowerCase() === token.text.toLowerCase())!;

  return { table: owners[0]!, column, firstIndex: index, lastIndex: index };
}

function operatorNear(
  tokens: SqlToken[],
  firstIndex: number,
  lastIndex: number,
): string | undefined {
  const after = tokens[lastIndex + 1];
  const afterNext = tokens[lastIndex + 2];
  if (after !== undefined) {
    if (after.kind === 'operator') {
      return after.text;
    }
    if (after.upper === 'NOT' && afterNext !== undefined) {
      return afterNext.upper === 'IN' ? undefined : afterNext.upper;
    }
    if (
      after.kind === 'word' &&
      (EQUALITY_OPERATORS.has(after.upper) || RANGE_OPERATORS.has(after.upper))
    ) {
      return after.upper;
    }
  }
  const before = tokens[firstIndex - 1];
  if (before?.kind === 'operator') {
    // `? = col` or `5 < col`: the mirror of the operator constrains the column the same way.
    return before.text;
  }

  return undefined;
}

function placeholderNulls(tokens: SqlToken[]): SqlParameters {
  const named: Record<string, null> = {};
  let positional = 0;
  for (const token of tokens) {
    if (token.kind !== 'parameter') {
      continue;
    }
    if (token.text === '?') {
      positional++;
    } else if (token.text.startsWith('?')) {
      positional = Math.max(positional, Number(token.text.slice(1)));
    } else {
      named[token.text.slice(1)] = null;
    }
  }

  return Object.keys(named).length > 0 ? named : Array<null>(positional).fill(null);
}

function copySample(
  connection: Connection,
  schema: Schema,
  sampleRows: number,
): BetterSqlite3.Database {
  const sample = new BetterSqlite3(':memory:');
  sample.pragma('foreign_keys = OFF');
  for (const table of schema.tables) {
    sample.exec(table.sql);
  }
  for (const sql of schema.indexSql) {
    sample.exec(sql);
  }
  for (const table of schema.tables) {
    const quoted = quoteName(table.name);
    const { count } = connection.get<{ count: number }>(
      `SELECT count(*) AS count FROM ${quoted}`,
      undefined,
      AS_NUMBERS,
    )!;
    if (count === 0) {
      continue;
    }
    // Every k-th rowid spreads the sample over the whole table instead of its first rows.
    const step = Math.max(1, Math.ceil(count / sampleRows));
    const select =
      table.withoutRowid || step === 1
        ? `SELECT * FROM ${quoted} LIMIT ${sampleRows}`
        : `SELECT * FROM ${quoted} WHERE rowid % ${step} = 0 LIMIT ${sampleRows}`;
    const rows = connection.all<Record<string, unknown>>(select, undefined, { integers: 'bigint' });
    const names = schema.columns.get(table.name.toLowerCase())!.names;
    const insert = sample.prepare(
      `INSERT INTO ${quoted} (${names.map((name) => quoteName(name)).join(', ')}) VALUES (${names.map(() => '?').join(', ')})`,
    );
    sample.transaction(() => {
      for (const row of rows) {
        insert.run(names.map((name) => row[name] ?? null));
      }
    })();
  }
  sample.exec('ANALYZE');

  return sample;
}

interface Candidate {
  readonly table: string;
  readonly columns: string[];
}

function candidatesFor(parsed: ParsedQuery[], schema: Schema, maxColumns: number): Candidate[] {
  const byKey = new Map<string, Candidate>();
  const add = (table: string, columns: string[]) => {
    // Every index already ends with the rowid, and lookups by it use the table itself.
    const rowid = schema.rowidAliases.get(table.toLowerCase());
    const unique = [...new Set(columns)]
      .filter((column) => column.toLowerCase() !== rowid)
      .slice(0, maxColumns);
    if (unique.length === 0) {
      return;
    }
    const lower = unique.map((column) => column.toLowerCase());
    const existing = schema.existingIndexes.get(table.toLowerCase()) ?? [];
    // An existing index that starts with the same columns already serves these lookups.
    if (existing.some((index) => lower.every((column, position) => index[position] === column))) {
      return;
    }
    byKey.set(`${table.toLowerCase()}(${lower.join(',')})`, { table, columns: unique });
  };
  for (const query of parsed) {
    for (const [table, use] of query.uses) {
      for (const column of [...use.equality, ...use.range, ...use.order]) {
        add(table, [column]);
      }
      add(table, use.equality);
      if (use.range.length > 0) {
        add(table, [...use.equality, use.range[0]!]);
      }
      if (use.order.length > 0) {
        add(table, [...use.equality, ...use.order]);
      }
    }
  }

  return [...byKey.values()];
}

// Candidates are tried in rounds: one that the planner ignores alone may be used
// once an index accepted in an earlier round makes another join order cheaper.
const MAX_ROUNDS = 3;

function evaluateCandidates(
  sample: BetterSqlite3.Database,
  parsed: ParsedQuery[],
  schema: Schema,
  maxColumns: number,
): IndexAdvice[] {
  const before = parsed.map((query) => explain(sample, query));
  const probes = candidatesFor(parsed, schema, maxColumns).map((candidate, index) => ({
    ...candidate,
    probeName: `agentnode_advice_${index}`,
  }));
  const usesProbe = (plan: string[], probeName: string) =>
    plan.some((line) => new RegExp(`\\bINDEX ${probeName}\\b`).test(line));
  const createProbe = (probe: (typeof probes)[number]) => {
    const columns = probe.columns.map((column) => quoteName(column)).join(', ');
    sample.exec(`CREATE INDEX "${probe.probeName}" ON ${quoteName(probe.table)} (${columns})`);
    sample.exec(`ANALYZE "${probe.probeName}"`);
  };

  const accepted: typeof probes = [];
  let pending = probes;
  for (let round = 0; round < MAX_ROUNDS && pending.length > 0; round++) {
    const used = pending.filter((probe) => {
      createProbe(probe);
      const helps = parsed.some(
        (query) =>
          query.uses.has(probe.table) && usesProbe(explain(sample, query), probe.probeName),
      );
      sample.exec(`DROP INDEX "${probe.probeName}"`);
      return helps;
    });
    if (used.length === 0) {
      break;
    }
    for (const probe of used) {
      createProbe(probe);
      accepted.push(probe);
    }
    pending = pending.filter((probe) => !used.includes(probe));
  }

  // With every accepted index in place, each one is credited with the queries whose
  // final plan uses it; one that no final plan uses is dropped.
  const after = parsed.map((query) => explain(sample, query));
  const advice: IndexAdvice[] = [];
  for (const probe of accepted) {
    const helped = after.flatMap((plan, index) =>
      usesProbe(plan, probe.probeName) ? [index] : [],
    );
    if (helped.length === 0) {
      continue;
    }
    const name = adviceName(probe);
    const renamed = (plan: string[]) =>
      plan.map((line) =>
        accepted.reduce((text, other) => text.replaceAll(other.probeName, adviceName(other)), line),
      );
    advice.push({
      name,
      table: probe.table,
      columns: probe.columns,
      createSql: `CREATE INDEX IF NOT EXISTS "${name}" ON ${quoteName(probe.table)} (${probe.columns
        .map((column) => quoteName(column))
        .join(', ')})`,
      queries: helped.map((index) => parsed[index]!.sql),
      plans: helped.map((index) => ({
        sql: parsed[index]!.sql,
        before: before[index]!,
        after: renamed(after[index]!),
      })),
    });
  }

  return dropRedundant(advice);
}

function adviceName(candidate: Candidate): string {
  return `idx_${candidate.table}_${candidate.columns.join('_')}`.replace(/[^A-Za-z0-9_]/g, '_');
}

// A narrower index that helps no query beyond what a wider one on the same leading
// columns helps is left out: the wider one serves the same lookups.
function dropRedundant(advice: IndexAdvice[]): IndexAdvice[] {
  return advice
    .filter(
      (narrow) =>
        !advice.some(
          (wide) =>
            wide !== narrow &&
            wide.table === narrow.table &&
            wide.columns.length > narrow.columns.length &&
            narrow.columns.every((column, position) => wide.columns[position] === column) &&
            narrow.queries.every((sql) => wide.queries.includes(sql)),
        ),
    )
    .sort((a, b) => b.queries.length - a.queries.length || a.name.localeCompare(b.name));
}

function explain(sample: BetterSqlite3.Database, query: ParsedQuery): string[] {
  try {
    const statement = sample.prepare(`EXPLAIN QUERY PLAN ${query.sql}`);
    const rows = (
      Array.isArray(query.params) ? statement.all(...query.params) : statement.all(query.params)
    ) as {
      detail: string;
    }[];
    return rows.map((row) => row.detail);
  } catch (error) {
    throw new SqlitePerfError(
      'QUERY_FAILED',
      `adviseIndexes could not plan "${query.sql}": ${error instanceof Error ? error.message : String(error)}`,
      { cause: error, sql: query.sql },
    );
  }
}

function pushOnce(list: string[], value: string): void {
  if (!list.includes(value)) {
    list.push(value);
  }
}

// Names here come from the schema itself, so any name SQLite accepted is valid:
// quote it, doubling embedded quotes, instead of restricting it to plain identifiers.
function quoteName(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
