import { describe } from './config';
import { SqlitePerfError } from './errors';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Validates a table or column name and returns it double-quoted for SQL.
 * Only plain identifiers (`[A-Za-z_][A-Za-z0-9_]*`) are accepted, optionally
 * qualified by a schema (`main.tools`), so a name can never carry SQL.
 */
export function quoteIdentifier(name: unknown, what: string): string {
  if (typeof name !== 'string') {
    throw invalidIdentifier(name, what);
  }
  const parts = name.split('.');
  if (parts.length > 2 || !parts.every((part) => IDENTIFIER.test(part))) {
    throw invalidIdentifier(name, what);
  }

  return parts.map((part) => `"${part}"`).join('.');
}

function invalidIdentifier(name: unknown, what: string): SqlitePerfError {
  return new SqlitePerfError(
    'INVALID_IDENTIFIER',
    `Invalid ${what} name ${describe(name)}: must be letters, digits and _ ` +
      '(not starting with a digit), optionally schema-qualified as schema.name.',
  );
}
