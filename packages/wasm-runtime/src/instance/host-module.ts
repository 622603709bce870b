import { pathToFileURL } from 'node:url';
import { WasmRuntimeError } from '../errors';
import type { HostImports } from './types';

const loaded = new Map<string, Promise<HostImports>>();

/**
 * Imports a host module (an ES module whose default export is the host imports object)
 * once per thread, by path or file URL.
 *
 * @throws WasmRuntimeError `INVALID_ARGUMENT` when the default export is not an object.
 */
export function loadHostModule(location: string | URL): Promise<HostImports> {
  const url = toFileUrl(location);
  let imports = loaded.get(url);
  if (imports === undefined) {
    imports = import(url).then((namespace: { default?: unknown }) => {
      const value = namespace.default;
      if (typeof value !== 'object' || value === null) {
        throw new WasmRuntimeError(
          'INVALID_ARGUMENT',
          `The host module ${url} must default-export an object of host imports, got ${typeof value}.`,
        );
      }
      return value as HostImports;
    });
    loaded.set(url, imports);
    // A failed import is retried by the next caller.
    imports.catch(() => loaded.delete(url));
  }
  return imports;
}

/** Turns a path or URL into the file URL string that `import()` takes. */
export function toFileUrl(location: string | URL): string {
  if (location instanceof URL) {
    return location.href;
  }
  return location.startsWith('file:') ? location : pathToFileURL(location).href;
}
