import { describeValue, ToolError } from './errors';

/** The separator between the parts of a router key. */
export const ROUTER_KEY_SEPARATOR = ':::';

/** Maximum length of a router key, in UTF-16 code units, before sanitizing. */
export const MAX_ROUTER_KEY_LENGTH = 512;

/** The parts of a router key, sanitized and lower-cased. */
export interface RouterKey {
  /** Origin of the tool, for example `local` or a registry name. */
  readonly source: string;
  /** Publisher of the tool. */
  readonly author: string;
  /** The tool's name. */
  readonly name: string;
  /** The tool's version, if the key has one. */
  readonly version: string | undefined;
  /** The whole key, `source:::author:::name[:::version]`. */
  readonly key: string;
  /** The key without its version, used for metrics labels and config overrides. */
  readonly keyWithoutVersion: string;
}

/** The parts {@link formatRouterKey} joins. */
export interface RouterKeyParts {
  source: string;
  author: string;
  name: string;
  version?: string | undefined;
}

// Code points outside [A-Za-z0-9_]; the `u` flag makes one code point one `_`.
const UNSAFE_CHARACTERS = /[^A-Za-z0-9_]/gu;
const PART_NAMES = ['source', 'author', 'name', 'version'] as const;

/**
 * Replaces every character outside `[A-Za-z0-9_]` with `_` and lower-cases the result.
 *
 * @example
 * import { sanitizeRouterKeyPart } from '@agentnode/core';
 * sanitizeRouterKeyPart('Café-Tools'); // 'caf__tools'
 */
export function sanitizeRouterKeyPart(part: string): string {
  return part.replace(UNSAFE_CHARACTERS, '_').toLowerCase();
}

/**
 * Parses `source:::author:::name[:::version]` into its sanitized parts.
 *
 * Note: a part that is empty, only whitespace or contains `:` (a separator
 * with too few or too many colons) is rejected, not sanitized.
 *
 * @throws {ToolError} `INVALID_ROUTER_KEY` when the key is not a string, is longer
 *   than {@link MAX_ROUTER_KEY_LENGTH}, or has other than three or four valid parts.
 * @example
 * import { parseRouterKey } from '@agentnode/core';
 * parseRouterKey('Local:::Acme:::Weather:::1.2').key; // 'local:::acme:::weather:::1_2'
 */
export function parseRouterKey(key: string): RouterKey {
  if (typeof key !== 'string') {
    throw invalidKey(key, 'it must be a string');
  }

  if (key.length > MAX_ROUTER_KEY_LENGTH) {
    throw invalidKey(key, `it is longer than ${MAX_ROUTER_KEY_LENGTH} characters`);
  }

  const parts = key.split(ROUTER_KEY_SEPARATOR);
  if (parts.length !== 3 && parts.length !== 4) {
    throw invalidKey(
      key,
      `it must have 3 or 4 parts separated by "${ROUTER_KEY_SEPARATOR}", got ${parts.length}`,
    );
  }

  for (const [index, part] of parts.entries()) {
    checkPart(key, PART_NAMES[index]!, part);
  }

  const [source, author, name, version] = parts.map(sanitizeRouterKeyPart) as [
    string,
    string,
    string,
    string | undefined,
  ];

  return buildRouterKey(source, author, name, version);
}

/**
 * Joins sanitized parts into a router key.
 *
 * @throws {ToolError} `INVALID_ROUTER_KEY` when a part is missing, empty or contains `:`.
 * @example
 * import { formatRouterKey } from '@agentnode/core';
 * formatRouterKey({ source: 'local', author: 'acme', name: 'Add' }); // 'local:::acme:::add'
 */
export function formatRouterKey(parts: RouterKeyParts): string {
  const list = [parts.source, parts.author, parts.name];
  if (parts.version !== undefined) {
    list.push(parts.version);
  }

  const described = list.map(String).join(ROUTER_KEY_SEPARATOR);
  for (const [index, part] of list.entries()) {
    checkPart(described, PART_NAMES[index]!, part);
  }

  return list.map(sanitizeRouterKeyPart).join(ROUTER_KEY_SEPARATOR);
}

/**
 * Returns the canonical form of `key`: parsed, sanitized and joined again.
 *
 * @throws {ToolError} `INVALID_ROUTER_KEY`, as {@link parseRouterKey}.
 * @example
 * import { normalizeRouterKey } from '@agentnode/core';
 * normalizeRouterKey('Local:::Acme:::Web-Search'); // 'local:::acme:::web_search'
 */
export function normalizeRouterKey(key: string): string {
  return parseRouterKey(key).key;
}

/**
 * Returns `key` without its version, in canonical form; metrics labels and
 * config overrides use this form.
 *
 * @throws {ToolError} `INVALID_ROUTER_KEY`, as {@link parseRouterKey}.
 * @example
 * import { routerKeyWithoutVersion } from '@agentnode/core';
 * routerKeyWithoutVersion('local:::acme:::add:::2'); // 'local:::acme:::add'
 */
export function routerKeyWithoutVersion(key: string): string {
  return parseRouterKey(key).keyWithoutVersion;
}

function buildRouterKey(
  source: string,
  author: string,
  name: string,
  version: string | undefined,
): RouterKey {
  const keyWithoutVersion = `${source}${ROUTER_KEY_SEPARATOR}${author}${ROUTER_KEY_SEPARATOR}${name}`;
  const key =
    version === undefined
      ? keyWithoutVersion
      : `${keyWithoutVersion}${ROUTER_KEY_SEPARATOR}${version}`;

  return Object.freeze({ source, author, name, version, key, keyWithoutVersion });
}

function checkPart(key: string, partName: string, part: unknown): void {
  if (typeof part !== 'string') {
    throw invalidKey(key, `its ${partName} must be a string, got ${typeof part}`);
  }

  if (part.trim() === '') {
    throw invalidKey(key, `its ${partName} is empty`);
  }

  if (part.includes(':')) {
    throw invalidKey(
      key,
      `its ${partName} "${part}" contains ":"; parts are separated by exactly "${ROUTER_KEY_SEPARATOR}"`,
    );
  }
}

function invalidKey(key: unknown, rule: string): ToolError {
  const shown = typeof key === 'string' ? JSON.stringify(truncate(key)) : describeValue(key);

  return new ToolError(
    'INVALID_ROUTER_KEY',
    `Invalid router key ${shown}: ${rule}. Expected "source${ROUTER_KEY_SEPARATOR}author${ROUTER_KEY_SEPARATOR}name[${ROUTER_KEY_SEPARATOR}version]".`,
  );
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}
