import { createMetricsRegistry } from '@agentnode/metrics';
import { describe, expect, it } from 'vitest';
import { createWasmRuntime } from '../src/index';
import { cacheDirectory, coreModule } from './fixtures';
import { failure } from './helpers';

describe('metrics', () => {
  it('records loads, cache lookups, calls, fuel and failures', async () => {
    const metrics = createMetricsRegistry({ collectSystem: false });
    const runtime = createWasmRuntime({ cacheDirectory, metrics });
    const tool = runtime.load(await coreModule('limits'), { name: 'limits' });

    const { fuelUsed } = await tool.call('count_to', [10]);
    await failure(tool.call('spin', [], { fuelLimit: 1000 }));
    await runtime.load(await coreModule('limits'), { name: 'limits' }).ready();
    const text = await metrics.registry.metrics();

    expect(text).toContain('agentnode_wasm_module_load_duration_seconds_count{kind="module"} 2');
    expect(text).toContain('agentnode_wasm_cache_requests_total{cache="memory",result="miss"} 1');
    expect(text).toContain('agentnode_wasm_cache_requests_total{cache="memory",result="hit"} 1');
    expect(text).toContain(
      'agentnode_wasm_call_duration_seconds_count{module="limits",export="count_to",status="ok"} 1',
    );
    expect(text).toContain(
      `agentnode_wasm_fuel_used_total{module="limits",export="count_to"} ${fuelUsed}`,
    );
    expect(text).toContain('agentnode_wasm_fuel_used_total{module="limits",export="spin"} 1000');
    expect(text).toContain('agentnode_wasm_traps_total{module="limits",code="OUT_OF_FUEL"} 1');
    expect(text).toMatch(/agentnode_wasm_cache_size_bytes \d+/);
    await runtime.close();
  });
});
