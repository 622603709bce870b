import { execFile } from 'node:child_process';
import { open, realpath, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { invalidConfig } from './errors';
import type { TarEntry } from './tar';
import { nonEmptyString } from './validate';

const execFileAsync = promisify(execFile);

/** A root file system and its import instructions, spreadable into {@link LocalImageConfig}. */
export interface Rootfs {
  readonly entries: readonly TarEntry[];
  readonly changes: readonly string[];
}

/**
 * Describes a minimal image around a static BusyBox: `/bin/busybox`, one symlink per applet
 * (`sh`, `cat`, `sha256sum`, `gzip`, ...), writable `/tmp` and `/workspace`.
 *
 * @param busyboxPath host path of a statically linked busybox (Debian: `busybox-static`)
 * @default busyboxPath `/usr/bin/busybox`, else the first `busybox` on `PATH`
 *
 * @example
 * import { buildLocalImage, busyboxRootfs } from '@agentnode/container-pool';
 *
 * const { image } = await buildLocalImage({ repository: 'tools/busybox', ...(await busyboxRootfs('/bin/busybox')) });
 */
export async function busyboxRootfs(busyboxPath?: string): Promise<Rootfs> {
  if (busyboxPath !== undefined) {
    nonEmptyString('busyboxPath', busyboxPath, 'name the host path of a busybox binary');
  }
  const binary = await hostFile('busyboxPath', busyboxPath ?? (await findOnPath('busybox')));
  await checkStaticExecutable('busyboxPath', binary);
  const applets = await listApplets(binary);
  const links: TarEntry[] = applets
    .filter((name) => name !== 'busybox')
    .map((name) => ({ type: 'symlink', path: `/bin/${name}`, target: 'busybox' }));

  return {
    entries: [
      ...baseDirectories(),
      { type: 'file', path: '/bin/busybox', source: binary, mode: 0o755 },
      ...links,
      { type: 'directory', path: '/usr/bin' },
      { type: 'symlink', path: '/usr/bin/env', target: '../../bin/busybox' },
    ],
    changes: ['ENV PATH=/bin:/usr/bin', 'WORKDIR /workspace', 'CMD ["sh"]'],
  };
}

/**
 * Describes a minimal Node.js image: the host's `node` binary at `/usr/local/bin/node` and the
 * shared libraries `ldd` lists for it, at the same paths as on the host.
 *
 * Note: the host and the image must share a CPU architecture. Libraries loaded later with
 * `dlopen` (native addons) are not listed by `ldd`, so they are left out.
 *
 * @param nodePath host path of the `node` binary
 * @default nodePath `process.execPath`
 *
 * @example
 * import { buildLocalImage, nodeRootfs } from '@agentnode/container-pool';
 *
 * const { image } = await buildLocalImage({ repository: 'tools/node', ...(await nodeRootfs()) });
 * // Use it with { image, runner: 'node' }.
 */
export async function nodeRootfs(nodePath: string = process.execPath): Promise<Rootfs> {
  nonEmptyString('nodePath', nodePath, 'name the host path of a node binary');
  const binary = await hostFile('nodePath', nodePath);
  const libraries = await sharedLibraries(binary);
  const libraryFiles: TarEntry[] = [];
  const directories = new Set<string>();
  for (const library of libraries) {
    for (let dir = parentOf(library); dir !== '/'; dir = parentOf(dir)) directories.add(dir);
    libraryFiles.push({
      type: 'file',
      path: library,
      source: await realpath(library),
      mode: 0o755,
    });
  }

  return {
    entries: [
      ...baseDirectories(),
      ...[...directories].sort().map((path): TarEntry => ({ type: 'directory', path })),
      { type: 'directory', path: '/usr' },
      { type: 'directory', path: '/usr/local' },
      { type: 'directory', path: '/usr/local/bin' },
      { type: 'file', path: '/usr/local/bin/node', source: binary, mode: 0o755 },
      ...libraryFiles,
    ],
    changes: ['ENV PATH=/usr/local/bin:/bin', 'WORKDIR /workspace', 'CMD ["node"]'],
  };
}

function baseDirectories(): TarEntry[] {
  return [
    { type: 'directory', path: '/bin' },
    { type: 'directory', path: '/etc' },
    {
      type: 'file',
      path: '/etc/passwd',
      content: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/tmp:/bin/false\n',
    },
    { type: 'file', path: '/etc/group', content: 'root:x:0:\nnogroup:x:65534:\n' },
    { type: 'directory', path: '/root', mode: 0o700 },
    { type: 'directory', path: '/tmp', mode: 0o1777 },
    { type: 'directory', path: '/workspace', mode: 0o1777 },
  ];
}

/** Extracts library paths from `ldd` output (`libc.so.6 => /lib/.../libc.so.6 (0x...)`). */
function parseLdd(output: string): string[] {
  const paths = new Set<string>();
  for (const line of output.split('\n')) {
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line);
    if (match?.[1] !== undefined) paths.add(match[1]);
  }
  return [...paths];
}

function parentOf(path: string): string {
  const index = path.lastIndexOf('/');
  return index <= 0 ? '/' : path.slice(0, index);
}

async function findOnPath(command: string): Promise<string> {
  const candidates = [
    `/usr/bin/${command}`,
    ...(process.env.PATH ?? '').split(':').map((dir) => `${dir}/${command}`),
  ];
  for (const candidate of candidates) {
    try {
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // Not in this directory; try the next one.
    }
  }
  throw invalidConfig('busyboxPath', undefined, `no ${command} binary found on PATH`);
}

/** Resolves `path` to a regular host file, or raises `INVALID_CONFIG` naming `option`. */
async function hostFile(option: string, path: string): Promise<string> {
  let resolved: string;
  try {
    resolved = await realpath(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw invalidConfig(option, path, `the file cannot be read (${code})`);
  }
  if (!(await stat(resolved)).isFile()) throw invalidConfig(option, path, 'name a regular file');
  return resolved;
}

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
const PT_INTERP = 3;

/**
 * Checks that `path` is a statically linked ELF executable, so it runs in an image without
 * shared libraries and is never run on the host as a shell script. Only little-endian ELF
 * files are read for the dynamic-loader check; others pass it.
 */
async function checkStaticExecutable(option: string, path: string): Promise<void> {
  const handle = await open(path, 'r');
  let header: Buffer;
  try {
    header = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(header, 0, header.length, 0);
    header = header.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }

  if (header.length < 52 || !header.subarray(0, 4).equals(ELF_MAGIC)) {
    throw invalidConfig(
      option,
      path,
      'it is not an ELF executable; pass a statically linked busybox (Debian: busybox-static)',
    );
  }
  if (hasInterpreter(header)) {
    throw invalidConfig(
      option,
      path,
      'it is dynamically linked and cannot run in an image without its libraries; pass a statically linked busybox (Debian: busybox-static)',
    );
  }
}

/** Tells whether an ELF header names a dynamic loader (a `PT_INTERP` program header). */
function hasInterpreter(elf: Buffer): boolean {
  const is64 = elf[4] === 2;
  const littleEndian = elf[5] === 1;
  if (!littleEndian) return false;

  const tableOffset = is64 ? Number(elf.readBigUInt64LE(32)) : elf.readUInt32LE(28);
  const entrySize = elf.readUInt16LE(is64 ? 54 : 42);
  const entries = elf.readUInt16LE(is64 ? 56 : 44);
  for (let index = 0; index < entries; index += 1) {
    const offset = tableOffset + index * entrySize;
    if (offset + 4 > elf.length) return false;
    if (elf.readUInt32LE(offset) === PT_INTERP) return true;
  }
  return false;
}

/** Runs `busybox --list`; a binary that lists no `sh` applet is not a usable busybox. */
async function listApplets(binary: string): Promise<string[]> {
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync(binary, ['--list'], { timeout: 10_000 }));
  } catch (error) {
    throw invalidConfig(
      'busyboxPath',
      binary,
      `"${binary} --list" failed (${(error as Error).message.trim()}); pass a busybox binary`,
    );
  }
  const applets = stdout.split('\n').filter((name) => /^[a-z0-9_.[-]+$/.test(name));
  if (!applets.includes('sh')) {
    throw invalidConfig(
      'busyboxPath',
      binary,
      'it lists no "sh" applet, so it is not a busybox the sh runner can use',
    );
  }
  return applets;
}

/** Lists the shared libraries `ldd` reports for `binary`; none for a static binary. */
async function sharedLibraries(binary: string): Promise<string[]> {
  try {
    const { stdout } = await execFileAsync('ldd', [binary], { timeout: 10_000 });
    return parseLdd(stdout);
  } catch (error) {
    const output = `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`;
    if (/not a dynamic executable|statically linked/.test(output)) return [];
    throw invalidConfig(
      'nodePath',
      binary,
      `"ldd ${binary}" failed (${(error as Error).message.trim()}); pass a node binary built for this machine`,
    );
  }
}
