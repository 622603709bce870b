import { open, readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';

/** Extensions the demo treats as text. */
const TEXT_EXTENSIONS = new Set(['.md', '.markdown', '.txt', '.rst']);
/** Bytes read from a file at most; larger files are cut, since statistics of the head suffice. */
export const MAX_FILE_BYTES = 256 * 1024;

/** A text file the demo found, before reading. */
export interface FoundFile {
  path: string;
  bytes: number;
}

/**
 * Lists text files under `root`, breadth first, following directory symlinks
 * once (pnpm's `node_modules` is made of them) and stopping at `limit` files.
 */
export async function listTextFiles(root: string, limit: number): Promise<FoundFile[]> {
  const found: FoundFile[] = [];
  const seen = new Set<string>();
  const pending = [root];

  while (pending.length > 0 && found.length < limit) {
    const directory = pending.shift()!;
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(directory, { withFileTypes: true });
    } catch {
      continue; // An unreadable subdirectory is skipped; the root is checked by the caller.
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));

    for (const entry of entries) {
      const path = join(directory, entry.name);
      const info = await stat(path).catch(() => undefined);
      if (info === undefined) {
        continue;
      }
      if (info.isDirectory()) {
        const identity = `${info.dev}:${info.ino}`;
        if (!seen.has(identity)) {
          seen.add(identity);
          pending.push(path);
        }
      } else if (info.isFile() && TEXT_EXTENSIONS.has(extname(entry.name).toLowerCase())) {
        found.push({ path, bytes: info.size });
        if (found.length >= limit) {
          break;
        }
      }
    }
  }

  return found;
}

/**
 * Reads a file as UTF-8 text. Throws a clear error for a binary file (a NUL
 * byte or invalid UTF-8 in the first `MAX_FILE_BYTES`) or an unreadable one.
 */
export async function readTextFile(
  path: string,
): Promise<{ text: string; bytes: number; truncated: boolean }> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const buffer = Buffer.alloc(Math.min(size, MAX_FILE_BYTES));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const bytes = buffer.subarray(0, bytesRead);
    if (bytes.includes(0)) {
      throw new Error(
        `${path} looks binary (it contains a NUL byte); only text files are analysed`,
      );
    }

    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      // A cut at MAX_FILE_BYTES can split a character; only a file read whole must decode cleanly.
      if (size <= MAX_FILE_BYTES) {
        throw new Error(`${path} is not valid UTF-8 text`);
      }
      text = new TextDecoder('utf-8').decode(bytes);
    }
    return { text, bytes: size, truncated: size > MAX_FILE_BYTES };
  } finally {
    await handle.close();
  }
}
