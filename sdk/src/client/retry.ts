/**
 * Retries with exponential backoff and full jitter (design notes §11):
 * attempt n waits a random time in [0, min(base·2^(n-1), cap)], never less
 * than the server's `Retry-After`. Only retryable {@link TimbreError}s are
 * retried, and the number of attempts is bounded.
 */
import { TimbreError } from '../errors.js'

/** How a client retries. */
export interface RetryOptions {
  /** Total attempts, including the first (1 = no retry). */
  attempts: number
  /** Base delay in milliseconds. */
  baseMs: number
  /** Largest backoff delay in milliseconds; a longer `Retry-After` is not waited for. */
  capMs: number
}

/**
 * The client's default retry policy: 4 attempts, 200 ms base, 10 s cap.
 *
 * @example
 * ```ts
 * new TimbreClient({ ...options, retry: { ...DEFAULT_RETRY, attempts: 6 } })
 * ```
 */
export const DEFAULT_RETRY: Readonly<RetryOptions> = Object.freeze({ attempts: 4, baseMs: 200, capMs: 10_000 })

/**
 * The full-jitter delay before retry number `retry` (1 for the first retry).
 *
 * @example
 * ```ts
 * backoffDelay(3, { attempts: 5, baseMs: 100, capMs: 1000 }) // between 0 and 400
 * ```
 */
export function backoffDelay(retry: number, options: RetryOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.max(0, retry - 1))
  return Math.floor(random() * ceiling)
}

/** Hooks of {@link withRetry}, mostly for tests and logs. */
export interface RetryHooks {
  /** Sleep implementation; a timer by default. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  /** Random source in [0, 1). */
  random?: () => number
  /** Called before each wait. */
  onRetry?: (info: { attempt: number; delayMs: number; error: TimbreError }) => void
  /** Stops waiting and rethrows when aborted. */
  signal?: AbortSignal | undefined
}

/**
 * Sleep `ms` milliseconds, or reject when `signal` aborts.
 *
 * @example
 * ```ts
 * await sleep(250)
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal!.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Run `fn` until it succeeds, fails with a non-retryable error, or the
 * attempts are used up. `fn` receives the attempt number (1-based) so it can
 * sign a fresh request proof each time.
 *
 * @example
 * ```ts
 * const res = await withRetry((attempt) => http.send(req), DEFAULT_RETRY)
 * ```
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions, hooks: RetryHooks = {}): Promise<T> {
  const attempts = Math.max(1, Math.floor(options.attempts))
  const wait = hooks.sleep ?? sleep
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt)
    } catch (err) {
      if (!(err instanceof TimbreError) || !err.retryable || attempt >= attempts) throw err
      const floor = (err.retryAfter ?? 0) * 1000
      // A server asking for more than the cap is answered by the caller, not by a hidden long sleep.
      if (floor > options.capMs) throw err
      const delayMs = Math.max(floor, backoffDelay(attempt, options, hooks.random))
      hooks.onRetry?.({ attempt, delayMs, error: err })
      await wait(delayMs, hooks.signal)
    }
  }
}
