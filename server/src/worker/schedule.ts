// Retry schedule of relays (spec 10.2, TMB-RTY-002): retry n waits a time
// drawn uniformly in [0, min(base·2^(n−1), cap)] ("full jitter"), and never
// less than the vault's Retry-After.
export function relayDelayMs(retry: number, baseMs: number, capMs: number, retryAfterMs = 0, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, retry - 1))
  return Math.max(Math.floor(random() * ceiling), retryAfterMs)
}

/** Delay before webhook retry n (1-based), or undefined when the schedule is exhausted (TMB-EVD-018). */
export function webhookDelayMs(retry: number, scheduleSeconds: readonly number[]): number | undefined {
  const s = scheduleSeconds[retry - 1]
  return s === undefined ? undefined : s * 1000
}
