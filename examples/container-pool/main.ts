/**
 * A warm container tool: SHA-256 digest and gzip size of a text, computed inside a sandboxed
 * BusyBox container. Builds its image from the machine's busybox binary, so no registry is
 * needed. Run it with:
 *
 *   node --conditions=source --import tsx examples/container-pool/main.ts
 */

import {
  buildLocalImage,
  busyboxRootfs,
  type ContainerSpec,
  createContainerPool,
} from '@agentnode/container-pool';
import { createMetricsRegistry } from '@agentnode/metrics';

/** Shell code of the tool: reads the text on stdin, prints its digest and gzip size. */
const DIGEST_SCRIPT = [
  'file=$(mktemp)',
  'cat > "$file"',
  'sha256sum < "$file" | cut -d" " -f1',
  'gzip -9 -c < "$file" | wc -c',
  'rm -f "$file"',
].join('\n');

const { image, built } = await buildLocalImage({
  repository: 'agentnode-example/busybox',
  ...(await busyboxRootfs()),
});
console.log(`image ${image} (${built ? 'imported now' : 'already present'})`);

const metrics = createMetricsRegistry({ collectSystem: false });
const pool = createContainerPool({ name: 'example', metrics, handleSignals: true });
const digestTool: ContainerSpec = { image, runner: 'sh', min: 1, max: 2 };

try {
  let started = performance.now();
  await pool.warm(digestTool);
  console.log(`warmed 1 container in ${(performance.now() - started).toFixed(0)} ms`);

  const text = 'The quick brown fox jumps over the lazy dog';
  started = performance.now();
  const result = await pool.run(digestTool, { code: DIGEST_SCRIPT, input: text, timeoutMs: 5_000 });
  const [sha256, gzipBytes] = result.output.trim().split('\n');
  console.log(`sha256 ${sha256}`);
  console.log(`gzip ${gzipBytes} bytes (text ${Buffer.byteLength(text)} bytes)`);
  console.log(
    `warm call ${(performance.now() - started).toFixed(1)} ms, exit code ${result.exitCode}`,
  );

  const overrun = await pool
    .run(digestTool, { code: 'sleep 10', timeoutMs: 200 })
    .catch((error: Error & { code?: string }) => error.code);
  console.log(`a call past its deadline fails with ${overrun}`);
  const next = await pool.run(digestTool, { code: 'echo replaced', timeoutMs: 5_000 });
  console.log(`its container was replaced: ${next.containerId !== result.containerId}`);

  const starts = /agentnode_container_start_duration_seconds_count\{[^}]*outcome="ok"\} (\d+)/.exec(
    await metrics.metrics(),
  );
  console.log(`containers started so far: ${starts?.[1] ?? 0}`);
} finally {
  await pool.close();
  console.log('pool closed; its containers are removed');
}
