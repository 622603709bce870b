import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { isEngineFailure } from './engine';
import { ContainerPoolError, invalidConfig } from './errors';
import { type TarEntry, writeTar } from './tar';
import { checkKeys, nonEmptyString } from './validate';

export type { TarEntry } from './tar';

const execFileAsync = promisify(execFile);

/** Configuration of {@link buildLocalImage}. */
export interface LocalImageConfig {
  /** Image repository, for example `agentnode/busybox`; the tag is a content hash. */
  readonly repository: string;
  /**
   * The root file system, written in order, at least one entry: `{ type: 'directory', path,
   * mode? }`, `{ type: 'file', path, mode?, source? | content? }` (`source` is a host file to
   * copy, `content` literal bytes) and `{ type: 'symlink', path, target }`.
   */
  readonly entries: readonly TarEntry[];
  /**
   * Dockerfile instructions applied on import, for example `ENV PATH=/bin`.
   * @default []
   */
  readonly changes?: readonly string[];
  /**
   * dockerode connection options of the engine to import into.
   * @default the local engine (`DOCKER_HOST`, else `/var/run/docker.sock`)
   */
  readonly connection?: Docker.DockerOptions;
}

/** The outcome of {@link buildLocalImage}. */
export interface LocalImage {
  /** `repository:tag`, ready for a container spec's `image`. */
  readonly image: string;
  /** False when an image with the same content hash was already present. */
  readonly built: boolean;
}

/**
 * Imports a root file system made of host files as a Docker image, tagged by a hash of its
 * content, so a second call with the same files finds the image and returns at once.
 *
 * Errors: `INVALID_CONFIG` for a bad field or an unreadable host file, `ENGINE_UNAVAILABLE`
 * when the engine does not respond, `IMAGE_BUILD_FAILED` with Docker's reason.
 *
 * Useful where no registry is reachable: pair it with {@link busyboxRootfs} or
 * {@link nodeRootfs} to make images from binaries already on the machine.
 *
 * @example
 * import { buildLocalImage, busyboxRootfs } from '@agentnode/container-pool';
 *
 * const { image } = await buildLocalImage({ repository: 'agentnode/busybox', ...(await busyboxRootfs()) });
 */
export async function buildLocalImage(config: LocalImageConfig): Promise<LocalImage> {
  const given = checkKeys<LocalImageConfig>('buildLocalImage config', config, CONFIG_KEYS);
  const { repository, connection } = given;
  if (typeof repository !== 'string' || !REPOSITORY_PATTERN.test(repository)) {
    throw invalidConfig(
      'repository',
      repository,
      'name an image repository of lower-case letters, digits and . _ - /, for example "tools/busybox"',
      'string',
    );
  }
  const changes = checkChanges(given.changes ?? []);
  if (connection !== undefined && (typeof connection !== 'object' || connection === null)) {
    throw invalidConfig(
      'connection',
      connection,
      'pass dockerode connection options, for example { socketPath: "/var/run/docker.sock" }',
      'object',
    );
  }
  const entries = await withSizes(checkEntries(given.entries));

  const docker = new Docker(connection);
  const image = `${repository}:${await contentHash(entries, changes)}`;
  if (await imageExists(docker, image, connection)) return { image, built: false };

  try {
    const [repo, tag] = splitImage(image);
    const progress = await docker.importImage(Readable.from(writeTar(entries)), {
      repo,
      tag,
      changes: [...changes],
    });
    await followProgress(docker, progress);
  } catch (error) {
    throw engineOrBuildError(error, connection, `Importing image ${image} failed`);
  }
  return { image, built: true };
}

const REPOSITORY_PATTERN = /^[a-z0-9]+(?:[._/-][a-z0-9]+)*$/;

const CONFIG_KEYS = {
  repository: true,
  entries: true,
  changes: true,
  connection: true,
} as const satisfies Record<keyof LocalImageConfig, true>;

const ENTRY_KEYS = {
  directory: { type: true, path: true, mode: true },
  file: { type: true, path: true, mode: true, source: true, content: true, size: true },
  symlink: { type: true, path: true, target: true },
} as const;

/** Checks every entry's type, path, mode and content fields. */
function checkEntries(entries: unknown): TarEntry[] {
  if (!Array.isArray(entries) || entries.length === 0) {
    throw invalidConfig(
      'entries',
      entries,
      'list the root file system, for example [...(await busyboxRootfs()).entries]',
      'array',
    );
  }

  return entries.map((entry: unknown, index) => {
    const option = `entries[${index}]`;
    const type = (entry as { type?: unknown } | null)?.type;
    if (type !== 'directory' && type !== 'file' && type !== 'symlink') {
      throw invalidConfig(`${option}.type`, type, 'use "directory", "file" or "symlink"', 'string');
    }

    const checked = checkKeys<TarEntry>(option, entry, ENTRY_KEYS[type]);
    if (
      typeof checked.path !== 'string' ||
      checked.path.replace(/^\/+/, '') === '' ||
      checked.path.includes('\0') ||
      checked.path.split('/').includes('..')
    ) {
      throw invalidConfig(
        `${option}.path`,
        checked.path,
        'use a path inside the image, for example "/bin/sh", without ".." parts',
        'string',
      );
    }
    if (checked.type !== 'symlink' && checked.mode !== undefined) {
      if (!Number.isInteger(checked.mode) || checked.mode < 0 || checked.mode > 0o7777) {
        throw invalidConfig(
          `${option}.mode`,
          checked.mode,
          'use permission bits from 0 to 0o7777, for example 0o755',
          'number',
        );
      }
    }
    if (checked.type === 'symlink') {
      nonEmptyString(`${option}.target`, checked.target, 'name the path the link points to');
    }
    if (checked.type === 'file') checkFileEntry(option, checked);
    return checked;
  });
}

function checkFileEntry(option: string, entry: Extract<TarEntry, { type: 'file' }>): void {
  if (entry.source !== undefined && entry.content !== undefined) {
    throw invalidConfig(
      option,
      entry,
      'give either source (a host file to copy) or content (the bytes), not both',
    );
  }
  if (entry.source !== undefined) {
    nonEmptyString(`${option}.source`, entry.source, 'name a file on this host');
  }
  if (
    entry.content !== undefined &&
    typeof entry.content !== 'string' &&
    !(entry.content instanceof Uint8Array)
  ) {
    throw invalidConfig(`${option}.content`, entry.content, 'use a string or a Uint8Array');
  }
}

function checkChanges(changes: unknown): readonly string[] {
  if (!Array.isArray(changes) || !changes.every((change) => typeof change === 'string')) {
    throw invalidConfig(
      'changes',
      changes,
      'list Dockerfile instructions as strings, for example ["ENV PATH=/bin"]',
      'array',
    );
  }
  return changes;
}

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

async function withSizes(entries: readonly TarEntry[]): Promise<TarEntry[]> {
  return Promise.all(
    entries.map(async (entry, index) => {
      if (entry.type !== 'file' || entry.source === undefined) return entry;

      const option = `entries[${index}].source`;
      const info = await stat(entry.source).catch((error: NodeJS.ErrnoException) => {
        throw invalidConfig(
          option,
          entry.source,
          `the host file cannot be read (${error.code ?? error.message})`,
        );
      });
      if (!info.isFile())
        throw invalidConfig(option, entry.source, 'name a regular file, not a directory or device');
      return { ...entry, size: info.size };
    }),
  );
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

/** Hashes the entry list, the instructions and every file's bytes into a 16-digit tag. */
async function contentHash(entries: readonly TarEntry[], changes: readonly string[]) {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ entries, changes }));
  for (const entry of entries) {
    if (entry.type !== 'file' || entry.source === undefined) continue;
    for await (const chunk of createReadStream(entry.source)) hash.update(chunk as Buffer);
  }
  return hash.digest('hex').slice(0, 16);
}

async function imageExists(
  docker: Docker,
  image: string,
  connection: Docker.DockerOptions | undefined,
): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw engineOrBuildError(error, connection, `Looking up image ${image} failed`);
  }
}

/**
 * Wraps a Docker failure: `ENGINE_UNAVAILABLE` when the engine did not respond, else
 * `IMAGE_BUILD_FAILED` with Docker's reason in the message.
 */
function engineOrBuildError(
  error: unknown,
  connection: Docker.DockerOptions | undefined,
  what: string,
): ContainerPoolError {
  const reason = ((error as Error).message ?? String(error)).trim();
  if (isEngineFailure(error) && (error as { statusCode?: number }).statusCode === undefined) {
    return new ContainerPoolError(
      'ENGINE_UNAVAILABLE',
      `${what}: the Docker engine at ${describeConnection(connection)} did not respond (${reason}). Check that dockerd runs and that connection names its socket or host.`,
      { cause: error },
    );
  }
  return new ContainerPoolError('IMAGE_BUILD_FAILED', `${what}: ${reason}`, { cause: error });
}

function describeConnection(connection: Docker.DockerOptions | undefined): string {
  if (connection?.socketPath !== undefined) return String(connection.socketPath);
  if (connection?.host !== undefined) {
    return `${connection.protocol ?? 'http'}://${connection.host}:${connection.port ?? 2375}`;
  }
  return process.env.DOCKER_HOST ?? '/var/run/docker.sock';
}

function splitImage(image: string): [string, string] {
  const index = image.lastIndexOf(':');
  return [image.slice(0, index), image.slice(index + 1)];
}

function followProgress(docker: Docker, stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (error: Error | null, events: unknown[]) => {
      if (error) return reject(error);

      const failure = events.find(
        (event): event is { error: string } =>
          typeof event === 'object' && event !== null && 'error' in event,
      );
      if (failure) return reject(new Error(failure.error));
      resolve();
    });
  });
}
