import { describe, expect, it } from 'vitest';
import {
  formatRouterKey,
  isToolError,
  normalizeRouterKey,
  parseRouterKey,
  routerKeyWithoutVersion,
  sanitizeRouterKeyPart,
  ToolError,
} from '../src/index';

function parseError(key: string): ToolError {
  try {
    parseRouterKey(key);
  } catch (error) {
    if (error instanceof ToolError) {
      return error;
    }
    throw error;
  }
  throw new Error(`parseRouterKey(${JSON.stringify(key)}) did not throw`);
}

describe('parseRouterKey', () => {
  it('parses three parts', () => {
    const key = parseRouterKey('local:::acme:::search');

    expect(key.source).toBe('local');
    expect(key.author).toBe('acme');
    expect(key.name).toBe('search');
    expect(key.version).toBeUndefined();
    expect(key.key).toBe('local:::acme:::search');
    expect(key.keyWithoutVersion).toBe('local:::acme:::search');
  });

  it('parses four parts with a version', () => {
    const key = parseRouterKey('local:::acme:::search:::2.1.0');

    expect(key.version).toBe('2_1_0');
    expect(key.key).toBe('local:::acme:::search:::2_1_0');
    expect(key.keyWithoutVersion).toBe('local:::acme:::search');
  });

  it('lower-cases and sanitizes every part', () => {
    expect(parseRouterKey('Hub:::ACME-Labs:::Web Search:::V1').key).toBe(
      'hub:::acme_labs:::web_search:::v1',
    );
  });

  it('sanitizes unicode one code point at a time', () => {
    expect(parseRouterKey('local:::josé:::météo🌦').key).toBe('local:::jos_:::m_t_o_');
    expect(parseRouterKey('本地:::作者:::工具').key).toBe('__:::__:::__');
  });

  it.each([
    ['two parts', 'local:::acme'],
    ['five parts', 'a:::b:::c:::d:::e'],
    ['no separator', 'local-acme-search'],
    ['two-colon separators', 'local::acme::search'],
    ['a four-colon separator', 'local::::acme:::search'],
    ['an empty part', 'local::::::search'],
    ['a blank part', 'local::: :::search'],
    ['an empty version', 'local:::acme:::search:::'],
    ['an empty string', ''],
  ])('rejects %s', (_case, key) => {
    const error = parseError(key);

    expect(error.code).toBe('INVALID_ROUTER_KEY');
    expect(error.message).toContain(JSON.stringify(key));
  });

  it('rejects a non-string key', () => {
    expect(() => parseRouterKey(42 as unknown as string)).toThrow(/must be a string/);
  });

  it('rejects a key longer than 512 characters', () => {
    const error = parseError(`local:::acme:::${'x'.repeat(600)}`);

    expect(error.code).toBe('INVALID_ROUTER_KEY');
    expect(error.message).toContain('longer than 512');
  });
});

describe('formatRouterKey', () => {
  it('joins and sanitizes parts', () => {
    expect(
      formatRouterKey({ source: 'Local', author: 'acme', name: 'web.search', version: '1.0' }),
    ).toBe('local:::acme:::web_search:::1_0');
    expect(formatRouterKey({ source: 'local', author: 'acme', name: 'search' })).toBe(
      'local:::acme:::search',
    );
  });

  it('round-trips through parseRouterKey', () => {
    const key = formatRouterKey({ source: 'hub', author: 'Ünïcode', name: 'tool', version: '3' });

    expect(parseRouterKey(key).key).toBe(key);
  });

  it('rejects an empty part', () => {
    expect(() => formatRouterKey({ source: 'local', author: '', name: 'x' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ROUTER_KEY' }),
    );
  });
});

describe('key helpers', () => {
  it('drops the version', () => {
    expect(routerKeyWithoutVersion('Local:::Acme:::Search:::9')).toBe('local:::acme:::search');
  });

  it('normalizes a key', () => {
    expect(normalizeRouterKey('LOCAL:::Acme:::Search')).toBe('local:::acme:::search');
  });

  it('sanitizes one part', () => {
    expect(sanitizeRouterKeyPart('A b-C')).toBe('a_b_c');
  });
});

describe('isToolError', () => {
  it('narrows by class and code', () => {
    const error = new ToolError('TIMEOUT', 'slow', { key: 'local:::a:::b', retryable: true });

    expect(isToolError(error)).toBe(true);
    expect(isToolError(error, 'TIMEOUT')).toBe(true);
    expect(isToolError(error, 'ABORTED')).toBe(false);
    expect(isToolError(new Error('x'))).toBe(false);
    expect(error.retryable).toBe(true);
    expect(error.name).toBe('ToolError');
  });
});
