import { describe, expect, it } from 'vitest';
import { displayWidth, table } from './report';

describe('displayWidth', () => {
  it.each([
    ['word', 4],
    ['日本語', 6],
    ['한국어', 6],
    ['café', 4],
    ['cafe\u0301', 4],
    ['ｆｕｌｌ', 8],
    ['🎉ok', 4],
  ])('counts %j as %i columns', (text, width) => {
    expect(displayWidth(text)).toBe(width);
  });
});

describe('table', () => {
  it('aligns columns after wide words', () => {
    const text = table(
      ['word', 'count'],
      [
        ['日本語', '3'],
        ['the', '12'],
      ],
    );

    expect(text.split('\n')).toEqual(['word    count', '日本語  3', 'the     12']);
  });
});
