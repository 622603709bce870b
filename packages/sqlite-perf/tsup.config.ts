import { copyFile } from 'node:fs/promises';
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  target: 'node20',
  dts: true,
  sourcemap: true,
  clean: true,
  // The reader worker is plain CommonJS loaded by URL next to the bundle, so it is
  // copied rather than bundled.
  async onSuccess() {
    await copyFile('src/reader-worker.cjs', 'dist/reader-worker.cjs');
  },
});
