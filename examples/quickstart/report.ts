/** Draws a progress bar on stderr: redrawn in place on a terminal, a line per 10% otherwise. */
export class ProgressBar {
  readonly #total: number;
  readonly #label: string;
  readonly #interactive = process.stderr.isTTY === true;
  #done = 0;
  #failed = 0;
  #lastDecile = -1;

  constructor(label: string, total: number) {
    this.#label = label;
    this.#total = Math.max(total, 1);
  }

  tick(ok: boolean): void {
    this.#done++;
    if (!ok) {
      this.#failed++;
    }
    this.#draw();
  }

  finish(): void {
    if (this.#interactive) {
      process.stderr.write('\n');
    }
  }

  #draw(): void {
    const ratio = this.#done / this.#total;
    const failures = this.#failed > 0 ? `, ${this.#failed} failed` : '';
    if (this.#interactive) {
      const width = 30;
      const filled = Math.round(ratio * width);
      process.stderr.write(
        `\r${this.#label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.#done}/${this.#total}${failures}`,
      );
      return;
    }

    const decile = Math.floor(ratio * 10);
    if (decile !== this.#lastDecile) {
      this.#lastDecile = decile;
      process.stderr.write(`${this.#label}: ${this.#done}/${this.#total} calls${failures}\n`);
    }
  }
}

/** Returns the `q` quantile (0 to 1) of `values` by nearest rank, or NaN when it is empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) {
    return Number.NaN;
  }
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** Formats milliseconds with a unit that keeps three significant digits. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) {
    return 'n/a';
  }
  return ms >= 1_000 ? `${(ms / 1_000).toFixed(2)} s` : `${ms.toPrecision(3)} ms`;
}

/**
 * Code point ranges a terminal shows two columns wide: CJK scripts, Hangul, fullwidth
 * forms and emoji (an approximation of Unicode's East Asian Width "W" and "F").
 */
const WIDE_RANGES: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f900, 0x1f9ff],
  [0x20000, 0x3fffd],
];

/** Columns `text` takes in a terminal: two per wide character, none per combining mark. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const character of text) {
    const code = character.codePointAt(0)!;
    if (code >= 0x300 && code <= 0x36f) {
      continue;
    }
    width += WIDE_RANGES.some(([first, last]) => code >= first && code <= last) ? 2 : 1;
  }
  return width;
}

/** Renders rows as an aligned text table, padding by display width. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((cell, column) =>
    Math.max(displayWidth(cell), ...rows.map((row) => displayWidth(row[column] ?? ''))),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map(
        (cell, column) =>
          cell + ' '.repeat(Math.max(0, (widths[column] ?? 0) - displayWidth(cell))),
      )
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
