/**
 * Runs a small dependency graph of tool calls with @agentnode/core alone.
 * It reads a file, counts its words and hashes it in parallel, then
 * combines both. It also shows a retried call, a rejected parameter and
 * the metrics.
 *
 *   node --conditions=source --import tsx examples/core/main.ts
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ToolCoordinator, ToolError, type ToolExecutor } from '@agentnode/core';
import { createMetricsRegistry } from '@agentnode/metrics';

// The facade ships this executor; core only defines the port.
const functionExecutor: ToolExecutor = {
  kind: 'function',
  run: (call) => call.tool.handler!(call.params, call),
};

const metrics = createMetricsRegistry({ collectSystem: false });
const coordinator = new ToolCoordinator({
  executors: [functionExecutor],
  metrics,
  logger: console,
});
const tools = coordinator.registry;

tools.register({
  key: 'local:::demo:::read_file',
  kind: 'function',
  description: 'Reads a UTF-8 text file.',
  parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
  handler: (params, { signal }) =>
    readFile(new URL(params.path as string, import.meta.url), { encoding: 'utf8', signal }),
});

tools.register({
  key: 'local:::demo:::word_count',
  kind: 'function',
  parameters: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  config: [{ name: 'minLength', default: 1, description: 'Shortest word counted' }],
  handler: (params, { config }) =>
    (params.text as string)
      .split(/\s+/)
      .filter((word) => word.length >= (config.minLength as number)).length,
});

tools.register({
  key: 'local:::demo:::sha256',
  kind: 'function',
  parameters: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  handler: (params) =>
    createHash('sha256')
      .update(params.text as string)
      .digest('hex'),
});

let summaryAttempts = 0;
tools.register({
  key: 'local:::demo:::summary:::1.0',
  kind: 'function',
  retry: { maxAttempts: 3, initialDelayMs: 10 },
  handler: (params) => {
    // Fails once the way a busy upstream would, to show a retry.
    summaryAttempts++;
    if (summaryAttempts === 1) {
      throw new ToolError('EXECUTION_FAILED', 'summary service busy', { retryable: true });
    }
    return `${params.words} words, sha256 ${(params.hash as string).slice(0, 12)}...`;
  },
});

// Agent "strict" counts only words of four letters or more.
coordinator.configStore.setAgentConfig('strict', 'local:::demo:::word_count', { minLength: 4 });

const results = await coordinator.executeMany(
  [
    { id: 'file', key: 'local:::demo:::read_file', params: { path: '../../LICENSE' } },
    { id: 'words', key: 'local:::demo:::word_count', inputs: { text: 'file' } },
    {
      id: 'long-words',
      key: 'local:::demo:::word_count',
      inputs: { text: 'file' },
      agentId: 'strict',
    },
    { id: 'hash', key: 'local:::demo:::sha256', inputs: { text: 'file' } },
    { id: 'summary', key: 'local:::demo:::summary', inputs: { words: 'words', hash: 'hash' } },
    { id: 'bad', key: 'local:::demo:::word_count', params: { text: 42 } },
  ],
  { concurrency: 4, timeoutMs: 5_000 },
);

for (const result of results) {
  if (result.id === 'file') {
    console.log(
      `${result.id}: ${result.ok ? `${(result.value as string).length} characters` : result.error.message}`,
    );
  } else if (result.ok) {
    console.log(`${result.id}: ${String(result.value)} (attempts: ${result.attempts})`);
  } else {
    console.log(`${result.id}: failed with ${result.error.code}: ${result.error.message}`);
  }
}

const exposition = await metrics.metrics();
console.log('\nmetrics:');
for (const line of exposition.split('\n')) {
  if (
    line.startsWith('agentnode_tool_executions_total') ||
    line.startsWith('agentnode_tool_retries_total')
  ) {
    console.log(`  ${line}`);
  }
}

await coordinator.close();
