import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildLocalImage, busyboxRootfs } from '@agentnode/container-pool';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import wabtInit from 'wabt';
import { type AgentNode, createNode, ToolError } from '../src/index';

// The dashboard and the alert rules of docs/operations.md must match what a real
// node exports: every metric and label they query is looked up in a live scrape
// of a node that ran each tool kind, and every exported metric needs a panel.

const DASHBOARD_PATH = new URL('../../../docs/grafana-dashboard.json', import.meta.url);
const OPERATIONS_PATH = new URL('../../../docs/operations.md', import.meta.url);
const CONTAINER_PREFIX = 'agentnode_container_';
/** Grafana's reference to the dashboard's data source variable. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana variable syntax, not a JS template.
const DATASOURCE_UID = '${datasource}';
/** Labels Prometheus adds at scrape time, so a node never exports them. */
const TARGET_LABELS = new Set(['job', 'instance']);

const WAT = `
(module
  (func (export "add") (param i32 i32) (result i32)
    local.get 0
    local.get 1
    i32.add)
  (func (export "spin") (loop $forever (br $forever))))
`;

interface Target {
  expr?: string;
}

interface Panel {
  id?: unknown;
  type?: unknown;
  title?: unknown;
  datasource?: { type?: unknown; uid?: unknown } | null;
  fieldConfig?: { defaults?: { unit?: unknown } };
  targets?: Target[];
  panels?: Panel[];
}

interface Dashboard {
  schemaVersion?: unknown;
  uid?: unknown;
  title?: unknown;
  panels?: Panel[];
  templating?: { list?: { name?: unknown; type?: unknown; query?: unknown }[] };
}

/** One metric family of a scrape: its type and the label names its samples carry. */
interface Family {
  type: string;
  labels: Set<string>;
}

const directory = mkdtempSync(join(tmpdir(), 'agentnode-dashboard-'));
const dashboardText = readFileSync(DASHBOARD_PATH, 'utf8');
const operationsText = readFileSync(OPERATIONS_PATH, 'utf8');
let node: AgentNode | undefined;
let containersRan = false;
let families = new Map<string, Family>();

beforeAll(async () => {
  node = await createNode({
    database: join(directory, 'node.db'),
    dataDirectory: directory,
    metrics: { collectSystem: true },
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    attestation: {
      // Not a real Nitro document: the gate rejects it, which still exercises
      // the lookup, the verifier and the decision counter.
      evidence: () => [{ tee: 'nitro', evidence: new Uint8Array([1, 2, 3]) }],
    },
  });
  await runEveryKind(node);
  containersRan = await runContainerTool(node);

  const server = await node.serveMetrics({ port: 0 });
  const response = await fetch(server.url);
  expect(response.status).toBe(200);
  families = parseFamilies(await response.text());
}, 60_000);

afterAll(async () => {
  await node?.close();
  rmSync(directory, { recursive: true, force: true });
});

async function runEveryKind(node: AgentNode): Promise<void> {
  const wabt = await wabtInit();
  const parsed = wabt.parseWat('dashboard.wat', WAT);
  const module = parsed.toBinary({}).buffer;
  parsed.destroy();

  let flakyCalls = 0;
  node.tools.register({ key: 'local:::dashboard:::echo', kind: 'function', handler: (p) => p });
  node.tools.register({
    key: 'local:::dashboard:::flaky',
    kind: 'function',
    retry: { maxAttempts: 2, initialDelayMs: 1, jitter: 'none' },
    handler: () => {
      flakyCalls += 1;
      if (flakyCalls === 1) {
        throw new ToolError('EXECUTION_FAILED', 'First attempt fails.', { retryable: true });
      }
      return flakyCalls;
    },
  });
  node.tools.register({
    key: 'local:::dashboard:::stuck',
    kind: 'function',
    handler: (_params, context) =>
      new Promise((_resolve, reject) =>
        context.signal.addEventListener('abort', () => reject(context.signal.reason)),
      ),
  });
  node.tools.register({
    key: 'local:::dashboard:::sealed',
    kind: 'function',
    privacyTier: 'cpu_tee',
    handler: () => 'never runs',
  });
  node.tools.register({
    key: 'local:::dashboard:::add',
    kind: 'wasm',
    spec: { module, export: 'add', args: () => [2, 40] },
  });
  node.tools.register({
    key: 'local:::dashboard:::spin',
    kind: 'wasm',
    spec: { module, export: 'spin', args: () => [], call: { fuelLimit: 10_000 } },
  });

  // Concurrency 1 makes the later calls of the batch wait in the queue.
  const batch = await node.executeMany(
    [
      { key: 'local:::dashboard:::echo', params: { n: 1 } },
      { key: 'local:::dashboard:::echo', params: { n: 2 } },
      { key: 'local:::dashboard:::flaky' },
      { key: 'local:::dashboard:::add' },
      { key: 'local:::dashboard:::spin' },
    ],
    { concurrency: 1 },
  );
  const timedOut = await node.execute('local:::dashboard:::stuck', {}, { timeoutMs: 20 });
  // The first gated call is verified and rejected; the second hits the cached rejection.
  const gated = [
    await node.execute('local:::dashboard:::sealed'),
    await node.execute('local:::dashboard:::sealed'),
  ];

  expect(batch.map((result) => result.ok)).toEqual([true, true, true, true, false]);
  expect(timedOut.ok || timedOut.error.code).toBe('TIMEOUT');
  expect(gated.map((result) => result.ok)).toEqual([false, false]);
}

/** Runs one container call; returns false when the node has no Docker engine. */
async function runContainerTool(node: AgentNode): Promise<boolean> {
  if (node.containers === undefined) {
    return false;
  }

  const image = await buildLocalImage({
    repository: 'agentnode-test/busybox',
    ...(await busyboxRootfs()),
  });
  node.tools.register({
    key: 'local:::dashboard:::shell',
    kind: 'container',
    spec: { container: { image: image.image, runner: 'sh', min: 0, max: 1 }, code: 'echo hi' },
  });
  const result = await node.execute('local:::dashboard:::shell');
  expect(result.ok).toBe(true);
  expect(result.ok && String(result.value).trim()).toBe('hi');

  return true;
}

/** Reads metric families from the Prometheus text format: `# TYPE` lines and sample labels. */
function parseFamilies(text: string): Map<string, Family> {
  const found = new Map<string, Family>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      found.set(type[1]!, { type: type[2]!, labels: new Set() });
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}/.exec(line);
    if (sample) {
      const family = found.get(familyOf(sample[1]!, found) ?? '');
      for (const [, label] of sample[2]!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) {
        family?.labels.add(label!);
      }
    }
  }
  return found;
}

/** Finds the family of a series name: itself, or the histogram or summary it is a sample of. */
function familyOf(name: string, known: ReadonlyMap<string, Family>): string | undefined {
  if (known.has(name)) {
    return name;
  }
  const suffixed = /^(.+)_(bucket|sum|count)$/.exec(name);
  const type = suffixed ? known.get(suffixed[1]!)?.type : undefined;
  const matches = type === 'histogram' || (type === 'summary' && suffixed?.[2] !== 'bucket');

  return matches ? suffixed?.[1] : undefined;
}

function allPanels(panels: readonly Panel[] = []): Panel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels)]);
}

function dashboard(): Dashboard {
  return JSON.parse(dashboardText) as Dashboard;
}

/** Collects the PromQL of the dashboard: panel queries and template variable queries. */
function dashboardExpressions(board: Dashboard): string[] {
  const fromPanels = allPanels(board.panels).flatMap((panel) =>
    (panel.targets ?? []).map((target) => target.expr ?? ''),
  );
  const fromVariables = (board.templating?.list ?? [])
    .filter((variable) => variable.type === 'query')
    .map((variable) => {
      const query = variable.query as string | { query?: string };
      return typeof query === 'string' ? query : (query.query ?? '');
    });

  return [...fromPanels, ...fromVariables];
}

function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\bagentnode_[a-z0-9_]+/g)].map((match) => match[0]);
}

/** Extracts the `expr` of every rule in the Prometheus rules example of docs/operations.md. */
function alertExpressions(): string[] {
  const rules = /```yaml\n(groups:[\s\S]*?)```/.exec(operationsText)?.[1] ?? '';

  return [...rules.matchAll(/^\s*expr: (.+)$/gm)].map((match) => match[1]!);
}

function allExpressions(): string[] {
  return [...dashboardExpressions(dashboard()), ...alertExpressions()];
}

function referencedNames(): Set<string> {
  return new Set(allExpressions().flatMap(metricNames));
}

describe('operator dashboard and alert rules', () => {
  it('panels have title, data source, unit, unique id', () => {
    const board = dashboard();
    const panels = allPanels(board.panels);
    const charts = panels.filter((panel) => panel.type !== 'row');
    const ids = panels.map((panel) => panel.id);

    expect(board.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(board.uid).toEqual(expect.any(String));
    expect(board.title).toEqual(expect.any(String));
    expect(charts.length).toBeGreaterThan(40);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => Number.isInteger(id))).toBe(true);
    for (const panel of panels) {
      expect(panel.title, `title of panel ${panel.id}`).toMatch(/\S/);
    }
    for (const panel of charts) {
      expect(panel.datasource?.uid, `datasource of "${panel.title}"`).toBe(DATASOURCE_UID);
      expect(panel.fieldConfig?.defaults?.unit, `unit of "${panel.title}"`).toEqual(
        expect.any(String),
      );
      expect(panel.targets?.length, `queries of "${panel.title}"`).toBeGreaterThan(0);
    }
  });

  it('queries filter by job and node', () => {
    const board = dashboard();
    const variables = (board.templating?.list ?? []).map((variable) => variable.name);
    const panelExprs = allPanels(board.panels).flatMap((panel) =>
      (panel.targets ?? []).map((target) => target.expr ?? ''),
    );

    expect(variables).toEqual(expect.arrayContaining(['datasource', 'job', 'instance']));
    for (const expr of panelExprs) {
      expect(metricNames(expr).length, expr).toBeGreaterThan(0);
      // Every selector of an agentnode metric is scoped to the chosen job and nodes.
      for (const [, selector] of expr.matchAll(/\bagentnode_[a-z0-9_]+(\{[^}]*\})?/g)) {
        expect(selector, expr).toContain('job=~"$job"');
        expect(selector, expr).toContain('instance=~"$instance"');
      }
    }
  });

  it('operations page lists alert rules', () => {
    const rules = alertExpressions();

    expect(rules.length).toBeGreaterThan(15);
    for (const expr of rules.filter((rule) => !rule.startsWith('up{'))) {
      expect(metricNames(expr).length, expr).toBeGreaterThan(0);
    }
  });

  it('queries name exported metrics', () => {
    const missing = [...referencedNames()]
      .filter((name) => !name.startsWith(CONTAINER_PREFIX))
      .filter((name) => familyOf(name, families) === undefined);

    expect(missing, 'metrics the dashboard or alert rules query that the scrape lacks').toEqual([]);
  });

  it('queries name exported container metrics', (context) => {
    if (!containersRan) {
      if (process.env.AGENTNODE_REQUIRE_SERVICES === '1') {
        throw new Error('AGENTNODE_REQUIRE_SERVICES=1 but the node found no Docker engine.');
      }
      context.skip('no Docker engine answered; container metrics of the dashboard not checked');
    }
    const containerNames = [...referencedNames()].filter((name) =>
      name.startsWith(CONTAINER_PREFIX),
    );
    const missing = containerNames.filter((name) => familyOf(name, families) === undefined);

    expect(containerNames.length).toBeGreaterThan(5);
    expect(
      missing,
      'container metrics the dashboard or alert rules query that the scrape lacks',
    ).toEqual([]);
  });

  it('every exported metric has a panel', () => {
    const familiesWithPanels = new Set(
      dashboardExpressions(dashboard())
        .flatMap(metricNames)
        .map((name) => familyOf(name, families))
        .filter(Boolean),
    );
    const withoutPanels = [...families.keys()].filter(
      (name) => name.startsWith('agentnode_') && !familiesWithPanels.has(name),
    );

    expect(withoutPanels, 'exported metrics with no panel in docs/grafana-dashboard.json').toEqual(
      [],
    );
  });

  it('queries use exported label names', () => {
    const wrong: string[] = [];
    for (const expr of allExpressions()) {
      // Label matchers: metric{label="value", ...}
      for (const [, name, matchers] of expr.matchAll(/\b(agentnode_[a-z0-9_]+)\{([^}]*)\}/g)) {
        const labels = [...matchers!.matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)].map(
          (match) => match[1]!,
        );
        wrong.push(...unknownLabels(name!, labels, expr));
      }
      // Grouping: by (labels) (rate(metric...)) or by (labels) (metric...)
      for (const [, grouping, name] of expr.matchAll(
        /\bby \(([^)]*)\) \((?:(?:rate|increase)\()?(agentnode_[a-z0-9_]+)/g,
      )) {
        const labels = grouping!
          .split(',')
          .map((label) => label.trim())
          .filter((label) => label !== '');
        wrong.push(...unknownLabels(name!, labels, expr));
      }
    }

    expect(wrong, 'labels the series do not carry').toEqual([]);
  });
});

/**
 * Label names of `labels` that the series of `name` do not carry. Families
 * without samples in this scrape have unknown labels and are not judged.
 */
function unknownLabels(name: string, labels: readonly string[], expr: string): string[] {
  const familyName = familyOf(name, families);
  const family = familyName === undefined ? undefined : families.get(familyName);
  if (family === undefined || family.labels.size === 0) {
    return [];
  }
  // Bucket samples carry `le`, so it counts as a label of a histogram family.
  return labels
    .filter((label) => !TARGET_LABELS.has(label) && !family.labels.has(label))
    .map((label) => `${label} on ${name} in ${expr}`);
}
