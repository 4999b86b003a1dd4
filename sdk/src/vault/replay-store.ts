/**
 * Single use of request proofs (TMB-AUTH): a `jti` is remembered until its
 * proof expires, and a second claim of it fails.
 */

/**
 * Where used proof ids are remembered. A server running several processes
 * implements it over its database (insert the jti with its expiry; a unique
 * violation means replay).
 *
 * @example
 * ```ts
 * const replayStore: ReplayStore = {
 *   async claim(jti, exp) {
 *     const r = await db.insertInto('used_jti').values({ jti, exp }).onConflict((oc) => oc.doNothing()).executeTakeFirst()
 *     return r.numInsertedOrUpdatedRows === 1n
 *   },
 * }
 * ```
 */
export interface ReplayStore {
  /** Record `jti` until `expSeconds` (Unix seconds); false when it was already recorded. */
  claim(jti: string, expSeconds: number): Promise<boolean>
}

/**
 * An in-process {@link ReplayStore}: a map with expiry, swept as it is used.
 * Enough for one process; several processes need a shared store.
 *
 * @example
 * ```ts
 * const handler = createRelayHandler({ ...options, replayStore: new MemoryReplayStore() })
 * ```
 */
export class MemoryReplayStore implements ReplayStore {
  #seen = new Map<string, number>()
  #now: () => number
  #nextSweep = 0

  /** @param now - clock in milliseconds, for tests. */
  constructor(now: () => number = Date.now) {
    this.#now = now
  }

  /** Claim a proof id. */
  async claim(jti: string, expSeconds: number): Promise<boolean> {
    const now = this.#now()
    if (now >= this.#nextSweep) {
      for (const [id, exp] of this.#seen) if (exp * 1000 < now) this.#seen.delete(id)
      this.#nextSweep = now + 10_000
    }
    const known = this.#seen.get(jti)
    if (known !== undefined && known * 1000 >= now) return false
    this.#seen.set(jti, expSeconds)
    return true
  }
}
