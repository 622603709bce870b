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

/** Renders rows as an aligned text table. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
