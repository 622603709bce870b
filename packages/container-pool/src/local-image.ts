import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { ContainerPoolError, invalidConfig } from './errors';
import { type TarEntry, writeTar } from './tar';

export type { TarEntry } from './tar';

const execFileAsync = promisify(execFile);

/** Configuration of {@link buildLocalImage}. */
export interface LocalImageConfig {
  /** Image repository, for example `agentnode/busybox`; the tag is a content hash. */
  readonly repository: string;
  /** The root file system: directories, files copied from the host, symlinks. */
  readonly entries: readonly TarEntry[];
  /** Dockerfile instructions applied on import, for example `ENV PATH=/bin`. */
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
 * Useful where no registry is reachable: pair it with {@link busyboxRootfs} or
 * {@link nodeRootfs} to make images from binaries already on the machine.
 *
 * @example
 * import { buildLocalImage, busyboxRootfs } from '@agentnode/container-pool';
 *
 * const { image } = await buildLocalImage({ repository: 'agentnode/busybox', ...(await busyboxRootfs()) });
 */
export async function buildLocalImage(config: LocalImageConfig): Promise<LocalImage> {
  if (!/^[a-z0-9]+(?:[._/-][a-z0-9]+)*$/.test(config.repository)) {
    throw invalidConfig(
      'repository',
      config.repository,
      'use lower-case letters, digits and . _ - /',
    );
  }

  const docker = new Docker(config.connection);
  const entries = await withSizes(config.entries);
  const changes = config.changes ?? [];
  const image = `${config.repository}:${await contentHash(entries, changes)}`;
  if (await imageExists(docker, image)) return { image, built: false };

  try {
    const [repo, tag] = splitImage(image);
    const progress = await docker.importImage(Readable.from(writeTar(entries)), {
      repo,
      tag,
      changes: [...changes],
    });
    await followProgress(docker, progress);
  } catch (error) {
    throw new ContainerPoolError('IMAGE_BUILD_FAILED', `Importing image ${image} failed.`, {
      cause: error,
    });
  }
  return { image, built: true };
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
  const binary = await realpath(busyboxPath ?? (await findOnPath('busybox')));
  const { stdout } = await execFileAsync(binary, ['--list']);
  const applets = stdout.split('\n').filter((name) => /^[a-z0-9_.[-]+$/.test(name));
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
  const binary = await realpath(nodePath);
  const { stdout } = await execFileAsync('ldd', [binary]);
  const libraries = parseLdd(stdout);
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
    entries.map(async (entry) => {
      if (entry.type !== 'file' || entry.source === undefined) return entry;
      return { ...entry, size: (await stat(entry.source)).size };
    }),
  );
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

async function imageExists(docker: Docker, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw error;
  }
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
