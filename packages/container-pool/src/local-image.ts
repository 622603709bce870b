import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import Docker from 'dockerode';
import { isEngineFailure } from './engine';
import { ContainerPoolError, invalidConfig } from './errors';
import { type TarEntry, writeTar } from './tar';
import { checkKeys, nonEmptyString } from './validate';

export type { TarEntry } from './tar';

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
