'use strict';
// Runs in a worker thread started by WorkerReaders (worker-readers.ts): one read-only
// connection with its own statement cache, running the queries the main thread
// posts. Plain CommonJS so the same file runs from src/ under tsx and from dist/.

const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.betterSqlite3Path);

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const BROKEN_PREFIXES = workerData.brokenCodePrefixes;

let database;
let statements;
// Whether the current message's statement came from the cache (true) or was prepared
// (false). It stays undefined when no statement was looked up. The main thread counts it.
let cached;

// Opens the connection. A failure is reported to the query that needed it, and the
// next query tries again, so a missing file never crashes the worker in a loop.
function open() {
  const opened = new Database(workerData.path, { readonly: true });
  try {
    for (const statement of workerData.pragmaStatements) {
      opened.pragma(statement);
    }
  } catch (error) {
    opened.close();
    throw error;
  }
  database = opened;
  statements = new Map();
}

function close() {
  if (database?.open) {
    database.close();
  }
  database = undefined;
}

function prepare(sql) {
  let statement = statements.get(sql);
  cached = statement !== undefined;
  if (statement !== undefined) {
    statements.delete(sql);
    statements.set(sql, statement);
    return statement;
  }
  statement = database.prepare(sql);
  statements.set(sql, statement);
  if (statements.size > workerData.statementCacheSize) {
    statements.delete(statements.keys().next().value);
  }
  return statement;
}

function hasUnsafeNumber(rows) {
  for (const row of rows) {
    for (const key in row) {
      const value = row[key];
      if (
        typeof value === 'number' &&
        Math.abs(value) > Number.MAX_SAFE_INTEGER &&
        Number.isInteger(value)
      ) {
        return true;
      }
    }
  }
  return false;
}

function narrow(row, integers, sql) {
  if (integers === 'bigint' || row === undefined) {
    return row;
  }
  for (const key in row) {
    const value = row[key];
    if (typeof value === 'bigint') {
      if (value > MAX_SAFE || value < -MAX_SAFE) {
        const error = new Error(
          `Column "${key}" of "${sql}" contains ${value}, which a JS number cannot hold exactly; ` +
            "read it with { integers: 'bigint' }.",
        );
        error.code = 'UNSAFE_INTEGER';
        throw error;
      }
      row[key] = Number(value);
    }
  }
  return row;
}

// Buffers that own their whole ArrayBuffer can be moved to the main thread instead
// of copied. Pooled buffers share one ArrayBuffer and are copied as usual.
function collectTransferables(rows, transfer) {
  for (const row of rows) {
    for (const key in row) {
      const value = row[key];
      if (
        Buffer.isBuffer(value) &&
        value.byteOffset === 0 &&
        value.byteLength === value.buffer.byteLength
      ) {
        transfer.push(value.buffer);
      }
    }
  }
}

function readPragmas() {
  const read = (name) => database.pragma(name, { simple: true });
  return {
    connectionId: workerData.connectionId,
    role: 'worker',
    journal_mode: String(read('journal_mode')),
    synchronous: Number(read('synchronous')),
    mmap_size: Number(read('mmap_size') ?? 0),
    cache_size: Number(read('cache_size')),
    temp_store: Number(read('temp_store')),
    foreign_keys: Number(read('foreign_keys')),
    busy_timeout: Number(read('busy_timeout')),
  };
}

function isBroken(error) {
  const code = typeof error?.code === 'string' ? error.code : '';
  return BROKEN_PREFIXES.some((prefix) => code.startsWith(prefix)) || !database?.open;
}

function handle(message) {
  if (database === undefined) {
    open();
  }
  if (message.op === 'pragmas') {
    return { value: readPragmas(), transfer: [] };
  }
  if (message.op === 'reopen') {
    close();
    open();
    return { value: true, transfer: [] };
  }
  const statement = prepare(message.sql);
  if (!statement.reader) {
    const error = new Error(
      `Invalid query "${message.sql}": it returns no rows; run it with run() inside db.write.`,
    );
    error.code = 'NOT_A_QUERY';
    throw error;
  }
  const params = message.params === undefined ? [] : [message.params];
  const fetch = () => {
    if (message.op === 'get') {
      const row = statement.get(...params);
      return row === undefined ? [] : [row];
    }
    return statement.all(...params);
  };
  // Plain numbers first, as on the main thread: an integer-valued number beyond
  // 2^53 is a REAL or a rounded INTEGER, and only an exact second run tells which.
  const fast = message.integers === 'number' && statement.readonly;
  statement.safeIntegers(!fast);
  let rows = fetch();
  if (!fast || hasUnsafeNumber(rows)) {
    if (fast) {
      statement.safeIntegers(true);
      rows = fetch();
    }
    for (const row of rows) {
      narrow(row, message.integers, message.sql);
    }
  }
  const transfer = [];
  collectTransferables(rows, transfer);
  return { value: message.op === 'get' ? rows[0] : rows, transfer };
}

try {
  open();
} catch {
  // Reported to the first query instead, which opens again.
}
parentPort.on('message', (message) => {
  cached = undefined;
  try {
    const { value, transfer } = handle(message);
    parentPort.postMessage({ id: message.id, ok: true, value, cached }, transfer);
  } catch (error) {
    const broken = isBroken(error);
    if (broken) {
      // The next query opens a fresh connection.
      close();
    }
    parentPort.postMessage({
      id: message.id,
      ok: false,
      cached,
      error: {
        name: error?.name,
        message: String(error?.message ?? error),
        code: typeof error?.code === 'string' ? error.code : undefined,
        broken,
      },
    });
  }
});
