/**
 * The quick start: an agent-style pipeline over a directory of real text files.
 *
 *   pnpm demo [directory] [--limit N] [--serve]
 *
 * A function tool reads each file, a WebAssembly component computes its word
 * statistics, a sandboxed container (when Docker responds) computes its SHA-256
 * digest and gzip size. Results go into SQLite in batches, a few queries run on
 * the reader pool, and the index advisor says which indexes would help them.
 * Default directory: the Markdown files of the installed dependencies.
 */
import { existsSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildLocalImage, busyboxRootfs } from '@agentnode/container-pool';
import { type AgentNode, createNode, type MetricsServer, type ToolCallRequest } from 'agentnode';
import { listTextFiles, readTextFile } from './files';
import { formatMs, ProgressBar, quantile, table } from './report';
import { buildWordStats, type TextStats } from './wasm/word-stats/build';

const repoRoot = resolve(import.meta.dirname, '..', '..');
const USAGE = `Usage: pnpm demo [directory] [--limit N] [--serve]

  directory   text files to analyse (.md, .markdown, .txt, .rst), searched recursively
              default: the Markdown files of the installed dependencies
  --limit N   analyse at most N files (default 150)
  --serve     keep serving /metrics after the run until Ctrl-C`;

// `pnpm demo -- --limit 5` passes the `--` on; drop it so the options still parse.
const argv = process.argv.slice(2);
let parsed: ReturnType<typeof parseDemoArgs>;
try {
  parsed = parseDemoArgs(argv[0] === '--' ? argv.slice(1) : argv);
} catch (error) {
  fail(`${(error as Error).message}\n\n${USAGE}`);
}
const { values: options, positionals } = parsed;
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}
const limit = Number(options.limit);
if (!Number.isInteger(limit) || limit < 1) {
  fail(`--limit must be a positive integer, got "${options.limit}".`);
}

const root = resolve(positionals[0] ?? join(repoRoot, 'node_modules', '.pnpm'));
if (!existsSync(root)) {
  fail(`Directory not found: ${root}. Pass an existing directory of text files.`);
}
if (!statSync(root).isDirectory()) {
  fail(`${root} is a file, not a directory. Pass the directory that contains it.`);
}

const startedAt = performance.now();
const files = await listTextFiles(root, limit);
if (files.length === 0) {
  fail(`No text files (.md, .markdown, .txt, .rst) under ${root}. Pass a directory that has some.`);
}
console.log(`agentnode quick start: ${files.length} text files under ${root}`);

const dataDirectory = join(repoRoot, '.agentnode');
const databasePath = join(dataDirectory, 'demo.db');
for (const suffix of ['', '-wal', '-shm']) {
  rmSync(databasePath + suffix, { force: true });
}

const node = await createNode({
  dataDirectory,
  database: databasePath,
  logger: {
    debug() {},
    info() {},
    warn: (message) => console.error(`warning: ${message}`),
    error: (message) => console.error(`error: ${message}`),
  },
});
const server = await serveMetricsNear(node, 3690);
await registerTools(node);

const calls = planCalls();
const durations = new Map<string, number[]>();
const failuresByKind = new Map<string, number>();
const progress = new ProgressBar('running', calls.length);
const skippedByKind = new Map<string, number>();
node.on('callFinished', (event) => {
  progress.tick(event.status === 'ok');
  // A call whose input failed never ran: count it apart, so latency covers real runs only.
  if (event.error?.code === 'DEPENDENCY_FAILED') {
    skippedByKind.set(event.kind, (skippedByKind.get(event.kind) ?? 0) + 1);
    return;
  }
  const list = durations.get(event.kind) ?? [];
  list.push(event.durationMs);
  durations.set(event.kind, list);
  if (event.status !== 'ok') {
    failuresByKind.set(event.kind, (failuresByKind.get(event.kind) ?? 0) + 1);
  }
});

const results = await node.executeMany(calls, { concurrency: 8, timeoutMs: 60_000 });
progress.finish();
const byId = new Map(results.map((result) => [result.id, result]));

const rows = await storeResults();
await printQueries();
printSummary();

if (options.serve) {
  console.log(`\nServing metrics at ${server.url}; press Ctrl-C to stop.`);
  await new Promise<void>((resolveStop) => process.once('SIGINT', () => resolveStop()));
}
await node.close();

// ---------------------------------------------------------------------------

async function registerTools(target: AgentNode): Promise<void> {
  target.tools.register({
    key: 'local:::demo:::read_file',
    kind: 'function',
    description: 'Reads a text file; rejects binary and unreadable files.',
    parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
    handler: async ({ path }) => readTextFile(path as string),
  });

  process.stderr.write(
    'preparing the word-stats WebAssembly component (the first run builds it, 10 to 25 s) ... ',
  );
  const buildStart = performance.now();
  const wordStats = await buildWordStats(join(dataDirectory, 'wasm-cache'));
  target.tools.register({
    key: 'local:::demo:::word_stats',
    kind: 'wasm',
    description: 'Counts words and finds the most frequent ones, in a WebAssembly sandbox.',
    parameters: {
      type: 'object',
      properties: { text: { type: 'string' }, top: { type: 'integer', minimum: 1 } },
      required: ['text', 'top'],
    },
    spec: {
      module: wordStats,
      export: 'analyze',
      args: (params: Record<string, unknown>) => [params.text, params.top],
    },
  });
  await target.wasm?.load(wordStats, { name: 'local:::demo:::word_stats' }).ready();
  process.stderr.write(`${formatMs(performance.now() - buildStart)}\n`);

  if (target.containers === undefined) {
    console.log('No Docker engine responded: the container digest step is skipped.');
    return;
  }
  const image = await buildLocalImage({
    repository: 'agentnode-demo/busybox',
    ...(await busyboxRootfs()),
  }).catch((error: Error) => {
    console.log(
      `Could not build the BusyBox image (${error.message}): the container digest step is skipped.`,
    );
    return undefined;
  });
  if (image === undefined) {
    return;
  }
  // Warm the containers before the batch, so calls measure the warm path, not cold starts.
  const container = { image: image.image, runner: 'sh' as const, min: 4, max: 4 };
  await target.containers.warm(container);
  target.tools.register({
    key: 'local:::demo:::digest',
    kind: 'container',
    description: 'SHA-256 digest and gzip size of a text, computed in a sandboxed container.',
    parameters: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
    spec: {
      container,
      code: 'f=$(mktemp); cat > "$f"; sha256sum < "$f" | cut -d" " -f1; gzip -9 -c < "$f" | wc -c; rm -f "$f"',
      input: (params: Record<string, unknown>) => String(params.text),
    },
  });
}

function planCalls(): ToolCallRequest[] {
  const withDigest = node.tools.has('local:::demo:::digest');
  return files.flatMap(({ path }, index) => {
    const read = `read-${index}`;
    const textOf = (outputs: Readonly<Record<string, unknown>>) =>
      (outputs[read] as { text: string }).text;
    const steps: ToolCallRequest[] = [
      { id: read, key: 'local:::demo:::read_file', params: { path } },
      {
        id: `stats-${index}`,
        key: 'local:::demo:::word_stats',
        dependsOn: [read],
        params: (outputs) => ({ text: textOf(outputs), top: 10 }),
      },
    ];
    if (withDigest) {
      steps.push({
        id: `digest-${index}`,
        key: 'local:::demo:::digest',
        dependsOn: [read],
        params: (outputs) => ({ text: textOf(outputs) }),
      });
    }
    return steps;
  });
}

interface FileRow {
  path: string;
  bytes: number;
  words: number;
  unique_words: number;
  sha256: string | null;
  gzip_bytes: number | null;
}

async function storeResults(): Promise<FileRow[]> {
  const database = node.store!.database;
  await database.write((connection) => {
    connection.exec(`CREATE TABLE demo_files (
      path TEXT PRIMARY KEY, bytes INTEGER NOT NULL, words INTEGER NOT NULL,
      unique_words INTEGER NOT NULL, sha256 TEXT, gzip_bytes INTEGER)`);
    connection.exec(
      'CREATE TABLE demo_words (path TEXT NOT NULL, word TEXT NOT NULL, count INTEGER NOT NULL)',
    );
  });

  const fileRows: FileRow[] = [];
  const wordRows: { path: string; word: string; count: number }[] = [];
  for (const [index, file] of files.entries()) {
    const read = byId.get(`read-${index}`);
    const stats = byId.get(`stats-${index}`);
    const digest = byId.get(`digest-${index}`);
    if (!read?.ok || !stats?.ok) {
      continue;
    }
    const path = relative(root, file.path);
    const { bytes } = read.value as { bytes: number };
    const { words, uniqueWords, topWords } = stats.value as TextStats;
    const [sha256, gzipBytes] = digest?.ok ? String(digest.value).split('\n') : [];
    fileRows.push({
      path,
      bytes,
      words,
      unique_words: uniqueWords,
      sha256: sha256 ?? null,
      gzip_bytes: gzipBytes === undefined ? null : Number(gzipBytes),
    });
    for (const { word, count } of topWords) {
      wordRows.push({ path, word, count });
    }
  }

  await database.insertMany('demo_files', fileRows, { chunkSize: 500 });
  await database.insertMany('demo_words', wordRows, { chunkSize: 500 });
  return fileRows;
}

async function printQueries(): Promise<void> {
  const database = node.store!.database;
  const queries = {
    topWords:
      'SELECT word, SUM(count) AS total, COUNT(*) AS files FROM demo_words GROUP BY word ORDER BY total DESC LIMIT 8',
    largest: 'SELECT path, bytes, words, gzip_bytes FROM demo_files ORDER BY bytes DESC LIMIT 5',
    filesWithWord: 'SELECT path, count FROM demo_words WHERE word = ? ORDER BY count DESC LIMIT 5',
    richest:
      'SELECT path, unique_words FROM demo_files WHERE words > ? ORDER BY unique_words DESC LIMIT 5',
  };

  const [topWords, largest] = await Promise.all([
    database.read((connection) =>
      connection.all<{ word: string; total: number; files: number }>(queries.topWords),
    ),
    database.read((connection) =>
      connection.all<{ path: string; bytes: number; words: number; gzip_bytes: number | null }>(
        queries.largest,
      ),
    ),
  ]);
  const topWord = topWords[0]?.word ?? 'the';

  console.log(`\nTop words across ${rows.length} files (SQLite, reader pool):`);
  console.log(
    table(
      ['word', 'count', 'files'],
      topWords.map((row) => [row.word, String(row.total), String(row.files)]),
    ),
  );
  console.log('\nLargest files:');
  console.log(
    table(
      ['file', 'bytes', 'words', 'gzip bytes'],
      largest.map((row) => [
        shorten(row.path),
        String(row.bytes),
        String(row.words),
        row.gzip_bytes === null ? '-' : String(row.gzip_bytes),
      ]),
    ),
  );

  const advice = await database.adviseIndexes([
    queries.topWords,
    queries.largest,
    { sql: queries.filesWithWord, params: [topWord] },
    { sql: queries.richest, params: [100] },
  ]);
  console.log(
    '\nIndex advisor (checked with EXPLAIN QUERY PLAN on a sample; nothing was created):',
  );
  if (advice.length === 0) {
    console.log('  no index would change these query plans');
  }
  for (const index of advice) {
    console.log(`  ${index.createSql}`);
    for (const query of index.queries) {
      console.log(`    helps: ${clip(query, 110)}`);
    }
  }
}

function printSummary(): void {
  const failedFiles = files
    .map((file, index) => ({ file, result: byId.get(`read-${index}`) }))
    .filter(({ result }) => result !== undefined && !result.ok);
  const wallMs = performance.now() - startedAt;
  const peakRssBytes = process.resourceUsage().maxRSS * 1024;

  console.log('\nSummary');
  const notAnalysed = files.length - rows.length - failedFiles.length;
  console.log(
    `  files: ${files.length} found, ${rows.length} analysed, ${failedFiles.length} unreadable, ${notAnalysed} failed in a later step`,
  );
  for (const { file, result } of failedFiles.slice(0, 5)) {
    const reason =
      result && !result.ok
        ? ((result.error.cause as Error | undefined)?.message ?? result.error.message)
        : '';
    console.log(`    skipped ${shorten(relative(root, file.path))}: ${reason}`);
  }
  console.log(
    table(
      ['  kind', 'calls', 'failed', 'skipped', 'p50', 'p99'],
      [...durations.entries()].map(([kind, list]) => [
        `  ${kind}`,
        String(list.length),
        String(failuresByKind.get(kind) ?? 0),
        String(skippedByKind.get(kind) ?? 0),
        formatMs(quantile(list, 0.5)),
        formatMs(quantile(list, 0.99)),
      ]),
    ),
  );
  const failures = results.filter((result) => !result.ok);
  console.log(`  calls: ${results.length}, failed: ${failures.length}`);
  const reasons = new Map<string, number>();
  for (const result of failures) {
    if (!result.ok && result.error.code !== 'DEPENDENCY_FAILED') {
      const cause = result.error.cause as { code?: string; message?: string } | undefined;
      const message = clip(cause?.message ?? result.error.message, 160);
      const reason = `${result.key} ${cause?.code ?? result.error.code}: ${message}`;
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
  }
  for (const [reason, count] of [...reasons].slice(0, 5)) {
    console.log(`    ${count} x ${reason}`);
  }
  console.log(
    `  wall time: ${formatMs(wallMs)}, peak resident memory: ${(peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
  );
  console.log(`  metrics: ${server.url} (served while the demo runs; --serve keeps it up)`);
}

async function serveMetricsNear(target: AgentNode, port: number): Promise<MetricsServer> {
  try {
    return await target.serveMetrics({ port });
  } catch {
    return target.serveMetrics({ port: 0 }); // The default port is taken, for example by another node.
  }
}

/** Cuts `text` to at most `max` characters at a word boundary. */
function clip(text: string, max: number): string {
  if (text.length <= max) {
    return text;
  }
  const cut = text.slice(0, max);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(' '), max / 2))} ...`;
}

function shorten(path: string): string {
  return path.length > 60 ? `...${path.slice(-57)}` : path;
}

function parseDemoArgs(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      limit: { type: 'string', default: '150' },
      serve: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}

function fail(message: string): never {
  console.error(`agentnode demo: ${message}`);
  process.exit(2);
}
