/** Maximum delay, in ms, that `setTimeout` supports: 2^31 - 1, about 24.8 days. */
export const MAX_TIMER_MS = 2_147_483_647;
