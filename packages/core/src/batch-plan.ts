import { describeValue, ToolError } from './errors';

/** The part of a batch call the plan reads. */
export interface PlannableCall {
  readonly id?: string;
  readonly params?: unknown;
  readonly dependsOn?: readonly string[];
  readonly inputs?: Readonly<Record<string, string>>;
}

/** One call of a batch with its place in the dependency graph. */
export interface PlannedCall {
  readonly index: number;
  readonly id: string;
  /** Indexes of the calls this call needs, without duplicates. */
  readonly dependencies: readonly number[];
  /** Indexes of the calls that need this call. */
  readonly dependents: number[];
}

/**
 * Checks a batch's ids and dependencies before anything runs: ids are unique
 * (a call without one gets its index as a string), every named input exists,
 * and there is no cycle.
 *
 * @throws {ToolError} `DUPLICATE_CALL_ID`, `DEPENDENCY_NOT_FOUND`,
 *   `DEPENDENCY_CYCLE` or `INVALID_OPTIONS`.
 */
export function planBatch(calls: readonly PlannableCall[]): PlannedCall[] {
  const indexById = new Map<string, number>();
  const ids = calls.map((call, index) => {
    const id = call.id === undefined ? String(index) : call.id;
    if (typeof id !== 'string' || id === '') {
      throw new ToolError(
        'INVALID_OPTIONS',
        `Call ${index}: "id" must be a non-empty string, got ${describeValue(id)}.`,
      );
    }
    if (indexById.has(id)) {
      throw new ToolError(
        'DUPLICATE_CALL_ID',
        `Calls ${indexById.get(id)} and ${index} share the id "${id}"; ids must be unique within a batch.`,
      );
    }
    indexById.set(id, index);

    return id;
  });

  const planned: PlannedCall[] = calls.map((call, index) => ({
    index,
    id: ids[index]!,
    dependencies: dependenciesOf(call, index, ids[index]!, indexById),
    dependents: [],
  }));

  for (const call of planned) {
    for (const dependency of call.dependencies) {
      planned[dependency]!.dependents.push(call.index);
    }
  }

  rejectCycles(planned);

  return planned;
}

function dependenciesOf(
  call: PlannableCall,
  index: number,
  id: string,
  indexById: ReadonlyMap<string, number>,
): readonly number[] {
  if (call.dependsOn === undefined && call.inputs === undefined) {
    return NO_DEPENDENCIES;
  }

  const { dependsOn = [], inputs = {} } = call;
  if (!Array.isArray(dependsOn)) {
    throw new ToolError(
      'INVALID_OPTIONS',
      `Call "${id}": "dependsOn" must be an array of call ids, got ${describeValue(dependsOn)}.`,
    );
  }
  if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs)) {
    throw new ToolError(
      'INVALID_OPTIONS',
      `Call "${id}": "inputs" must be an object mapping parameter names to call ids, got ${describeValue(inputs)}.`,
    );
  }

  rejectOverlap(call.params, inputs, id);

  const named: Array<readonly [field: string, name: unknown]> = [
    ...dependsOn.map((name, position) => [`dependsOn[${position}]`, name] as const),
    ...Object.entries(inputs).map(([parameter, name]) => [`inputs.${parameter}`, name] as const),
  ];
  const dependencies = new Set<number>();
  for (const [field, name] of named) {
    if (typeof name !== 'string') {
      throw new ToolError(
        'INVALID_OPTIONS',
        `Call "${id}": "${field}" must be a call id string, got ${describeValue(name)}.`,
      );
    }

    const dependency = indexById.get(name);
    if (dependency === undefined) {
      throw new ToolError(
        'DEPENDENCY_NOT_FOUND',
        `Call "${id}" (index ${index}) depends on "${name}", but no call in the batch has that id.`,
      );
    }
    dependencies.add(dependency);
  }

  return [...dependencies];
}

/**
 * Rejects a parameter that both `params` (as an object) and `inputs` set, because
 * one of the two values would be dropped without a word. A `params` function is
 * checked when it runs, in the batch.
 */
function rejectOverlap(params: unknown, inputs: object, id: string): void {
  if (typeof params !== 'object' || params === null) {
    return;
  }

  const overlap = Object.keys(inputs).find((name) => Object.hasOwn(params, name));
  if (overlap !== undefined) {
    throw new ToolError(
      'INVALID_OPTIONS',
      `Call "${id}": parameter "${overlap}" is set both in "params" and in "inputs"; set it in only one of them.`,
    );
  }
}

const MAX_CYCLE_IDS_SHOWN = 10;
const NO_DEPENDENCIES: readonly number[] = Object.freeze([]);

/** Kahn's algorithm: whatever cannot be ordered lies on or behind a cycle. */
function rejectCycles(planned: readonly PlannedCall[]): void {
  const waiting = planned.map((call) => call.dependencies.length);
  const ready = planned.filter((call) => call.dependencies.length === 0).map((call) => call.index);
  let ordered = 0;

  while (ready.length > 0) {
    const index = ready.pop()!;
    ordered++;
    for (const dependent of planned[index]!.dependents) {
      waiting[dependent]!--;
      if (waiting[dependent] === 0) {
        ready.push(dependent);
      }
    }
  }

  if (ordered < planned.length) {
    const cycle = findCycle(planned, waiting).map((index) => `"${planned[index]!.id}"`);
    // A cycle through thousands of calls would make a message of megabytes.
    const shown =
      cycle.length > MAX_CYCLE_IDS_SHOWN
        ? `${cycle.slice(0, MAX_CYCLE_IDS_SHOWN).join(' -> ')} -> ... (${cycle.length - 1} calls in the cycle)`
        : cycle.join(' -> ');
    throw new ToolError(
      'DEPENDENCY_CYCLE',
      `Batch calls depend on each other in a cycle (each on the next): ${shown}.`,
    );
  }
}

/** Walks dependencies among the unordered calls until one repeats. */
function findCycle(planned: readonly PlannedCall[], waiting: readonly number[]): number[] {
  const start = waiting.findIndex((count) => count > 0);
  const path: number[] = [];
  const seen = new Map<number, number>();
  let current = start;

  while (!seen.has(current)) {
    seen.set(current, path.length);
    path.push(current);
    current = planned[current]!.dependencies.find((dependency) => waiting[dependency]! > 0)!;
  }

  return [...path.slice(seen.get(current)), current];
}
