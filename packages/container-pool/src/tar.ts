import { createReadStream } from 'node:fs';

/**
 * One entry of a root file system, written to a tar archive by {@link writeTar}. `path` is
 * the path inside the image; `mode` sets the permission bits (default `0o755` for directories,
 * `0o644` for files).
 */
export type TarEntry =
  | { readonly type: 'directory'; readonly path: string; readonly mode?: number }
  | {
      readonly type: 'file';
      readonly path: string;
      readonly mode?: number;
      /** Host file to copy; read when the archive is written. */
      readonly source?: string;
      /** Literal content, used when `source` is absent. */
      readonly content?: string | Uint8Array;
      /**
       * Byte size of `source`, needed with `source` so the header can be written first.
       * `buildLocalImage` measures it itself.
       */
      readonly size?: number;
    }
  | {
      readonly type: 'symlink';
      readonly path: string;
      /** Path the link points to, relative to the link's directory unless absolute. */
      readonly target: string;
    };

const BLOCK_BYTES = 512;

/**
 * Writes `entries` as a POSIX ustar archive, streaming file contents from disk.
 *
 * Note: names longer than 255 bytes, files of 8 GiB or more and hard links are not supported.
 * A root file system made of host binaries needs none of them.
 */
export async function* writeTar(entries: readonly TarEntry[]): AsyncGenerator<Uint8Array> {
  for (const entry of entries) {
    if (entry.type !== 'file') {
      yield header(entry, 0);
      continue;
    }

    if (entry.source === undefined) {
      const content =
        typeof entry.content === 'string'
          ? Buffer.from(entry.content)
          : Buffer.from(entry.content ?? new Uint8Array());
      yield header(entry, content.length);
      yield content;
      yield padding(content.length);
      continue;
    }

    const size = entry.size ?? 0;
    yield header(entry, size);
    let written = 0;
    for await (const chunk of createReadStream(entry.source)) {
      const bytes = chunk as Buffer;
      written += bytes.length;
      yield bytes;
    }
    if (written !== size) {
      throw new Error(`File ${entry.source} changed size while archiving: ${size} -> ${written}.`);
    }
    yield padding(size);
  }

  // Two zero blocks end the archive.
  yield Buffer.alloc(BLOCK_BYTES * 2);
}

function header(entry: TarEntry, size: number): Buffer {
  const block = Buffer.alloc(BLOCK_BYTES);
  const relative = entry.path.replace(/^\/+/, '') + (entry.type === 'directory' ? '/' : '');
  const [prefix, name] = splitName(relative);
  const defaultMode = entry.type === 'file' ? 0o644 : 0o755;
  const mode = entry.type === 'symlink' ? 0o777 : (entry.mode ?? defaultMode);

  block.write(name, 0, 100, 'utf8');
  writeOctal(block, 100, 8, mode);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, size);
  writeOctal(block, 136, 12, 0);
  block.write(typeFlag(entry), 156, 1, 'ascii');
  if (entry.type === 'symlink') block.write(entry.target, 157, 100, 'utf8');
  block.write('ustar\u000000', 257, 8, 'ascii');
  block.write(prefix, 345, 155, 'utf8');

  // The checksum is computed with its own field filled with spaces.
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');

  return block;
}

function splitName(path: string): [prefix: string, name: string] {
  if (Buffer.byteLength(path) <= 100) return ['', path];

  // ustar stores long names as prefix + '/' + name, split at a slash.
  for (let index = path.indexOf('/'); index !== -1; index = path.indexOf('/', index + 1)) {
    const prefix = path.slice(0, index);
    const name = path.slice(index + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return [prefix, name];
  }
  throw new Error(`Path too long for a ustar archive: ${path}.`);
}

function typeFlag(entry: TarEntry): string {
  if (entry.type === 'directory') return '5';
  if (entry.type === 'symlink') return '2';
  return '0';
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  block.write(`${value.toString(8).padStart(length - 1, '0')}\u0000`, offset, length, 'ascii');
}

function padding(size: number): Buffer {
  const remainder = size % BLOCK_BYTES;
  return Buffer.alloc(remainder === 0 ? 0 : BLOCK_BYTES - remainder);
}
