// Word statistics for a text: the implementation of word-stats.wit, compiled to a
// WebAssembly component by componentize-js. A word is a run of letters or digits,
// with apostrophes or hyphens allowed inside it; words are compared in lower case.

// The embedded engine lacks Unicode property escapes (\p{L}), so a letter is a
// character with distinct upper and lower case, or one from scripts without case
// (U+3040 onwards: kana, CJK ideographs, Hangul). Caseless letters below U+3040,
// such as Arabic or Hebrew, are not recognized.
function isWordCharacter(character) {
  return (
    (character >= '0' && character <= '9') ||
    character.toLowerCase() !== character.toUpperCase() ||
    character.codePointAt(0) >= 0x3040
  );
}

function* words(text) {
  let current = '';
  for (const character of text) {
    if (isWordCharacter(character)) {
      current += character;
    } else if (current !== '' && "'’-".includes(character)) {
      current += character;
    } else if (current !== '') {
      yield current.replace(/['’-]+$/, '');
      current = '';
    }
  }
  if (current !== '') {
    yield current.replace(/['’-]+$/, '');
  }
}

// Most frequent first; equal counts in code-point order, so results never depend on a locale.
function byCountThenWord([wordA, countA], [wordB, countB]) {
  if (countA !== countB) {
    return countB - countA;
  }
  if (wordA === wordB) {
    return 0;
  }
  return wordA < wordB ? -1 : 1;
}

export function analyze(text, top) {
  const counts = new Map();
  let total = 0;
  for (const word of words(text)) {
    const key = word.toLowerCase();
    counts.set(key, (counts.get(key) ?? 0) + 1);
    total += 1;
  }

  const topWords = [...counts]
    .sort(byCountThenWord)
    .slice(0, top)
    .map(([word, count]) => ({ word, count }));

  return { words: total, uniqueWords: counts.size, topWords };
}
