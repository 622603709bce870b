/**
 * The on-disk cache of jco's transpiled output. An entry is a directory named after
 * the component's SHA-256 and the jco version, holding the generated files and a
 * manifest with each file's SHA-256. Reading an entry verifies every file against the
 * manifest. An entry that fails (missing file, changed byte, unreadable manifest) is
 * deleted and rebuilt, so corrupt output is never imported or run.
 */

import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { WasmRuntimeError } from './errors';

/** The transpiled form of one component, verified. */
export interface TranspiledComponent {
  /** Directory holding the entry's files. */
  readonly directory: string;
  /** Absolute path of the generated ES module exporting `instantiate`. */
  readonly entryPath: string;
  /** Core wasm files by the name the generated code loads them under, with their SHA-256. */
  readonly coreModules: ReadonlyMap<
    string,
    { readonly bytes: Uint8Array; readonly sha256: string }
  >;
  /** WIT interfaces the component imports, as the bindings look them up. */
  readonly imports: readonly string[];
  /** Top-level exports: functions of the world and exported interfaces. */
  readonly exports: readonly ExportedItem[];
  /** Whether this call transpiled (false when the disk cache had it). */
  readonly transpiled: boolean;
  /** Whether an existing entry failed verification and was rebuilt. */
  readonly rebuiltCorrupt: boolean;
}

interface Manifest {
  readonly format: 2;
  readonly jcoVersion: string;
  readonly componentSha256: string;
  readonly entry: string;
  readonly imports: readonly string[];
  readonly exports: readonly ExportedItem[];
  readonly files: Record<string, { readonly sha256: string; readonly bytes: number }>;
}

/** One export of a module or component, as `module.exports()` lists it. */
export interface ExportedItem {
  /**
   * Name as the module exports it. For components, the name jco's bindings use: camelCase
   * functions, and each interface under both its short name and its full WIT name.
   */
  readonly name: string;
  /** A callable function, or a WIT interface whose functions are called as `iface.fn`. */
  readonly kind: 'function' | 'interface';
}

const ENTRY_NAME = 'component';
const MANIFEST = 'manifest.json';

/** Reads the installed jco version, part of every cache key. */
export function jcoVersion(): string {
  const require = createRequire(import.meta.url);
  const apiPath = require.resolve('@bytecodealliance/jco');
  const packageJson = require(join(dirname(dirname(apiPath)), 'package.json')) as {
    version: string;
  };
  return packageJson.version;
}

/** Hex SHA-256 of some bytes. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Returns the verified transpiled output of `component`, from the disk cache when a
 * valid entry exists, else by transpiling (and storing the result atomically).
 */
export async function loadTranspiled(
  cacheDirectory: string,
  component: Uint8Array,
  componentSha256: string,
): Promise<TranspiledComponent> {
  const version = jcoVersion();
  const directory = join(cacheDirectory, 'components', `${componentSha256}-jco-${version}`);

  const cached = await readEntry(directory);
  if (cached.status === 'valid') {
    return { ...cached.entry, transpiled: false, rebuiltCorrupt: false };
  }
  if (cached.status === 'corrupt') {
    await rm(directory, { recursive: true, force: true });
  }

  await writeEntry(directory, component, componentSha256, version);
  const written = await readEntry(directory);
  if (written.status !== 'valid') {
    throw new WasmRuntimeError(
      'INVALID_MODULE',
      `The transpiled component in ${directory} failed verification right after it was written.`,
    );
  }
  return { ...written.entry, transpiled: true, rebuiltCorrupt: cached.status === 'corrupt' };
}

type ReadResult =
  | { status: 'valid'; entry: Omit<TranspiledComponent, 'transpiled' | 'rebuiltCorrupt'> }
  | { status: 'missing' }
  | { status: 'corrupt' };

async function readEntry(directory: string): Promise<ReadResult> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(join(directory, MANIFEST), 'utf8')) as Manifest;
  } catch (error) {
    return isMissing(error) ? { status: 'missing' } : { status: 'corrupt' };
  }

  if (
    manifest.format !== 2 ||
    typeof manifest.files !== 'object' ||
    manifest.files === null ||
    !Array.isArray(manifest.imports) ||
    !Array.isArray(manifest.exports)
  ) {
    return { status: 'corrupt' };
  }

  const coreModules = new Map<string, { bytes: Uint8Array; sha256: string }>();
  for (const [name, expected] of Object.entries(manifest.files)) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(join(directory, name)));
    } catch {
      return { status: 'corrupt' };
    }
    if (bytes.length !== expected.bytes || sha256(bytes) !== expected.sha256) {
      return { status: 'corrupt' };
    }
    if (name.endsWith('.wasm')) {
      coreModules.set(name, { bytes, sha256: expected.sha256 });
    }
  }

  if (manifest.files[manifest.entry] === undefined) {
    return { status: 'corrupt' };
  }
  return {
    status: 'valid',
    entry: {
      directory,
      entryPath: join(directory, manifest.entry),
      coreModules,
      imports: manifest.imports,
      exports: manifest.exports,
    },
  };
}

async function writeEntry(
  directory: string,
  component: Uint8Array,
  componentSha256: string,
  version: string,
): Promise<void> {
  const { files, imports, exports } = await transpile(component);
  const temporary = `${directory}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(temporary, { recursive: true });

  try {
    const manifestFiles: Record<string, { sha256: string; bytes: number }> = {};
    for (const [name, bytes] of Object.entries(files)) {
      await writeFile(join(temporary, name), bytes);
      manifestFiles[name] = { sha256: sha256(bytes), bytes: bytes.length };
    }
    const manifest: Manifest = {
      format: 2,
      jcoVersion: version,
      componentSha256,
      entry: `${ENTRY_NAME}.js`,
      imports,
      exports,
      files: manifestFiles,
    };
    await writeFile(join(temporary, MANIFEST), JSON.stringify(manifest, null, 2));
    await rename(temporary, directory);
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    // Another process may have stored the same entry first; its copy is as good.
    if (!isAlreadyThere(error)) {
      throw error;
    }
  }
}

async function transpile(
  component: Uint8Array,
): Promise<{ files: Record<string, Uint8Array>; imports: string[]; exports: ExportedItem[] }> {
  const jco = await import('@bytecodealliance/jco');
  let output: Awaited<ReturnType<typeof jco.transpile>>;
  try {
    output = await jco.transpile(component, {
      name: ENTRY_NAME,
      instantiation: 'async',
      // Every core module becomes a file, so none bypasses instrumentation inlined as base64.
      base64Cutoff: 0,
      noTypescript: true,
      quiet: true,
    });
  } catch (error) {
    throw new WasmRuntimeError(
      'INVALID_MODULE',
      `jco could not transpile the component: ${message(error)}`,
      {
        cause: error,
      },
    );
  }

  const files: Record<string, Uint8Array> = {};
  for (const [name, bytes] of Object.entries(output.files)) {
    // Type declarations are of no use at run time and may sit in subdirectories.
    if (name.endsWith('.js') || name.endsWith('.wasm')) {
      files[name] = bytes;
    }
  }
  const exports = output.exports.map(
    ([name, kind]): ExportedItem => ({
      name,
      kind: kind === 'instance' ? 'interface' : 'function',
    }),
  );
  return { files, imports: output.imports, exports };
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

function isAlreadyThere(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOTEMPTY' || code === 'EEXIST';
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
