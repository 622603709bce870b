import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

describe('system collector', () => {
  it('does not keep the process alive', () => {
    const script = `
      import { createMetricsRegistry } from '@agentnode/metrics';
      const metrics = createMetricsRegistry();
      await metrics.metrics();
      console.log('scraped');
    `;

    const result = spawnSync(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: packageDir, encoding: 'utf8', timeout: 20_000 },
    );

    expect(result.error).toBeUndefined();
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('scraped');
    expect(result.status).toBe(0);
  });
});
