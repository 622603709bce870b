/** One lexical token of an SQL statement. */
export interface SqlToken {
  readonly kind:
    | 'word'
    | 'identifier'
    | 'string'
    | 'number'
    | 'parameter'
    | 'operator'
    | 'punctuation';
  /** The token text; for a quoted identifier, the name without quotes. */
  readonly text: string;
  /** Upper-cased text of a `word`, for keyword checks. */
  readonly upper: string;
}

const OPERATORS = [
  '<=',
  '>=',
  '<>',
  '!=',
  '==',
  '||',
  '<<',
  '>>',
  '->>',
  '->',
  '=',
  '<',
  '>',
  '+',
  '-',
  '*',
  '/',
  '%',
  '&',
  '|',
  '~',
];

/**
 * Splits SQL into tokens, enough to find tables, aliases and compared columns.
 * Comments are dropped. Not a validating parser: SQLite itself checks the SQL.
 */
export function tokenize(sql: string): SqlToken[] {
  const tokens: SqlToken[] = [];
  let index = 0;
  const push = (kind: SqlToken['kind'], text: string) =>
    tokens.push({ kind, text, upper: kind === 'word' ? text.toUpperCase() : text });

  while (index < sql.length) {
    const char = sql[index]!;
    if (/\s/.test(char)) {
      index++;
    } else if (sql.startsWith('--', index)) {
      const end = sql.indexOf('\n', index);
      index = end < 0 ? sql.length : end + 1;
    } else if (sql.startsWith('/*', index)) {
      const end = sql.indexOf('*/', index + 2);
      index = end < 0 ? sql.length : end + 2;
    } else if (char === "'") {
      const end = closingQuote(sql, index, "'");
      push('string', sql.slice(index + 1, end).replaceAll("''", "'"));
      index = end + 1;
    } else if (char === '"' || char === '`') {
      const end = closingQuote(sql, index, char);
      push('identifier', sql.slice(index + 1, end).replaceAll(char + char, char));
      index = end + 1;
    } else if (char === '[') {
      const end = sql.indexOf(']', index);
      push('identifier', sql.slice(index + 1, end < 0 ? sql.length : end));
      index = end < 0 ? sql.length : end + 1;
    } else if (char === '?' || char === ':' || char === '@' || char === '$') {
      const match = /^[?:@$][A-Za-z0-9_]*/.exec(sql.slice(index))!;
      push('parameter', match[0]);
      index += match[0].length;
    } else if (/[0-9]/.test(char) || (char === '.' && /[0-9]/.test(sql[index + 1] ?? ''))) {
      const match = /^(0x[0-9a-f]+|[0-9]*\.?[0-9]+(e[+-]?[0-9]+)?)/i.exec(sql.slice(index))!;
      push('number', match[0]);
      index += Math.max(1, match[0].length);
    } else if (/[A-Za-z_]/.test(char)) {
      const match = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(sql.slice(index))!;
      push('word', match[0]);
      index += match[0].length;
    } else {
      const operator = OPERATORS.find((candidate) => sql.startsWith(candidate, index));
      if (operator !== undefined) {
        push('operator', operator);
        index += operator.length;
      } else {
        push('punctuation', char);
        index++;
      }
    }
  }

  return tokens;
}

function closingQuote(sql: string, start: number, quote: string): number {
  let index = start + 1;
  while (index < sql.length) {
    if (sql[index] === quote) {
      if (sql[index + 1] === quote) {
        index += 2;
        continue;
      }
      return index;
    }
    index++;
  }

  return sql.length;
}
