import { defineConfig } from 'tsup';

export default defineConfig({
  // The worker is its own entry: isolation workers load dist/call-worker.js by path.
  entry: { index: 'src/index.ts', 'call-worker': 'src/isolation/call-worker.ts' },
  format: ['esm'],
  target: 'node20',
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
});
