/**
 * Quick start: a node with three function tools runs an agent-style batch in
 * parallel over real text files, then prints the results and its metrics.
 *
 *   pnpm demo [directory]    (default: Markdown files of the installed dependencies)
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { createNode } from 'agentnode';

const MAX_FILES = 40;
const root = resolve(
  process.argv[2] ?? join(import.meta.dirname, '..', '..', 'node_modules', '.pnpm'),
);

const node = await createNode({ metrics: { collectSystem: false } });

node.tools.register({
  key: 'local:::demo:::list_markdown',
  kind: 'function',
  description: 'Lists Markdown files under a directory.',
  parameters: {
    type: 'object',
    properties: { dir: { type: 'string' }, limit: { type: 'integer', minimum: 1 } },
    required: ['dir'],
  },
  handler: async ({ dir, limit }) => listMarkdown(dir as string, limit as number),
});

node.tools.register({
  key: 'local:::demo:::text_stats',
  kind: 'function',
  description: 'Counts bytes, lines and words of a text file.',
  parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
  handler: async ({ path }) => {
    const text = await readFile(path as string, 'utf8');
    return {
      bytes: Buffer.byteLength(text),
      lines: text.split('\n').length,
      words: text.split(/\s+/).filter(Boolean).length,
    };
  },
});

node.tools.register({
  key: 'local:::demo:::sha256',
  kind: 'function',
  description: 'SHA-256 digest of a file.',
  parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
  handler: async ({ path }) =>
    createHash('sha256')
      .update(await readFile(path as string))
      .digest('hex'),
});

const listed = await node.execute<string[]>('local:::demo:::list_markdown', {
  dir: root,
  limit: MAX_FILES,
});
if (!listed.ok) {
  console.error(`Could not list ${root}: ${listed.error.message}`);
  await node.close();
  process.exit(1);
}
if (listed.value.length === 0) {
  console.error(`No Markdown files under ${root}.`);
  await node.close();
  process.exit(1);
}

const startedAt = performance.now();
const calls = listed.value.flatMap((path, index) => [
  { id: `stats-${index}`, key: 'local:::demo:::text_stats', params: { path } },
  { id: `digest-${index}`, key: 'local:::demo:::sha256', params: { path } },
]);
const results = await node.executeMany(calls, { concurrency: 8, timeoutMs: 5_000 });
const wallMs = performance.now() - startedAt;

console.log(`${listed.value.length} files under ${root}\n`);
console.log('file                                                    bytes   words  sha256');
for (const [index, path] of listed.value.entries()) {
  const stats = results[index * 2];
  const digest = results[index * 2 + 1];
  const failure = [stats, digest].find((result) => result?.ok === false);
  if (failure && !failure.ok) {
    console.log(`${relative(root, path).slice(-52).padEnd(52)}  failed: ${failure.error.message}`);
    continue;
  }
  if (!stats?.ok || !digest?.ok) {
    continue;
  }
  const { bytes, words } = stats.value as { bytes: number; words: number };
  console.log(
    `${relative(root, path).slice(-52).padEnd(52)} ${String(bytes).padStart(8)} ${String(words).padStart(7)}  ${String(digest.value).slice(0, 12)}`,
  );
}

const failed = results.filter((result) => !result.ok).length;
console.log(`\n${results.length} calls in ${wallMs.toFixed(1)} ms, ${failed} failed\n`);
console.log('metrics recorded:');
const text = await node.metrics.metrics();
for (const line of text.split('\n')) {
  if (
    line.startsWith('agentnode_tool_executions_total') ||
    line.startsWith('agentnode_tool_execution_duration_seconds_count')
  ) {
    console.log(`  ${line}`);
  }
}
await node.close();

async function listMarkdown(dir: string, limit: number): Promise<string[]> {
  const found: string[] = [];
  const pending = [dir];
  while (pending.length > 0 && found.length < limit) {
    const current = pending.shift()!;
    const entries = await readdir(current, { withFileTypes: true });
    for (const entry of entries) {
      const path = join(current, entry.name);
      if (
        entry.isDirectory() ||
        (entry.isSymbolicLink() && (await stat(path).catch(() => undefined))?.isDirectory())
      ) {
        pending.push(path);
      } else if (entry.isFile() && entry.name.toLowerCase().endsWith('.md')) {
        found.push(path);
        if (found.length >= limit) {
          break;
        }
      }
    }
  }
  return found.sort();
}
