import { afterEach, describe, expect, it, vi } from 'vitest';
import { createWasmRuntime, type WasmRuntimeLogger } from '../src/index';
import { cacheDirectory, stdioComponent } from './fixtures';
import { failure } from './helpers';

function recordingLogger(): { logger: WasmRuntimeLogger; debug: string[] } {
  const debug: string[] = [];
  const ignore = () => undefined;
  return {
    logger: { debug: (message) => debug.push(message), info: ignore, warn: ignore, error: ignore },
    debug,
  };
}

describe('component stdout and stderr', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('sends guest lines to the logger at debug level', async () => {
    const { logger, debug } = recordingLogger();
    const runtime = createWasmRuntime({ cacheDirectory, logger });
    const tool = runtime.load(await stdioComponent(), { name: 'stdio' });
    const stdoutWrite = vi.spyOn(process.stdout, 'write');
    const stderrWrite = vi.spyOn(process.stderr, 'write');

    const result = await tool.call('speak');

    expect(result.value).toBe(0);
    expect(debug).toContain('wasm-runtime: stdio stdout: hello from the guest');
    expect(debug).toContain('wasm-runtime: stdio stderr: oops');
    // The partial line waits for its newline.
    expect(debug.some((line) => line.includes('and a partial'))).toBe(false);
    expect(stdoutWrite).not.toHaveBeenCalled();
    expect(stderrWrite).not.toHaveBeenCalled();
    await runtime.close();
  });

  it('discards guest output without a logger', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await stdioComponent());
    const stdoutWrite = vi.spyOn(process.stdout, 'write');
    const stderrWrite = vi.spyOn(process.stderr, 'write');

    const result = await tool.call('speak');

    expect(result.value).toBe(0);
    expect(stdoutWrite).not.toHaveBeenCalled();
    expect(stderrWrite).not.toHaveBeenCalled();
    await runtime.close();
  });

  it('turns wasi:cli/exit into a TRAP', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await stdioComponent());
    // Without the fix the shim calls process.exit; the mock keeps the test worker alive.
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);

    const error = await failure(tool.call('quit'));
    const after = await tool.call('speak');

    expect(error.code).toBe('TRAP');
    expect(error.message).toMatch(/wasi:cli\/exit with status 1/);
    expect(exit).not.toHaveBeenCalled();
    expect(after.value).toBe(0);
    await runtime.close();
  });
});
