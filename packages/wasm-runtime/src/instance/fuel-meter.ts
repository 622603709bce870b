import { FUEL_EXPORT } from '../binary/instrument';

/**
 * The fuel counters of one instance: one per instrumented core module (a component
 * has several). Each counter gets the whole budget at the start of a call, and the
 * fuel used is the sum of what they spent.
 *
 * Note: a component's counters are separate, so its core modules could together spend
 * up to their number times the budget. In components built by jco and componentize-js
 * the helper modules only forward calls (no loops), so nearly all fuel is the main
 * module's.
 */
export class FuelMeter {
  readonly #counters: WebAssembly.Global[] = [];
  // Converting the budget to a bigint on every call shows up in call overhead.
  #budget = 0;
  #budgetValue = 0n;

  /** Adds the counter an instrumented instance exports; instances without one are ignored. */
  track(instance: WebAssembly.Instance): void {
    const counter = instance.exports[FUEL_EXPORT];
    if (counter instanceof WebAssembly.Global) {
      this.#counters.push(counter);
    }
  }

  /** Gives every counter `budget` units. */
  refuel(budget: number): void {
    if (budget !== this.#budget) {
      this.#budget = budget;
      this.#budgetValue = BigInt(budget);
    }
    for (const counter of this.#counters) {
      counter.value = this.#budgetValue;
    }
  }

  /** Units spent since the last refuel with `budget`; an exhausted counter counts as `budget`. */
  used(budget: number): number {
    let total = 0;
    for (const counter of this.#counters) {
      total += Math.min(budget, budget - Number(counter.value as bigint));
    }
    return total;
  }

  /** Tells whether a counter dropped below zero, which is how running out of fuel traps. */
  exhausted(): boolean {
    return this.#counters.some((counter) => (counter.value as bigint) < 0n);
  }
}
