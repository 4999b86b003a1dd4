// The shared replay memory of request proofs (TMB-AUTH). Implements the SDK's
// ReplayStore so the vault kit and the routing node use one table, and
// several processes on one PostgreSQL refuse a replay whichever one sees it.
import { sql, type Kysely, type Transaction } from 'kysely'
import type { ReplayStore } from '@timbre/sdk'
import type { Database } from './schema.js'

/** Seconds a jti is kept beyond its `exp`: the tolerated clock skew (spec 3.6). */
export const REPLAY_SKEW_SECONDS = 300

/** When a proof's jti may be forgotten: its `exp` plus the tolerated skew. */
export const replayExpiresAt = (expSeconds: number): Date => new Date((expSeconds + REPLAY_SKEW_SECONDS) * 1000)

export class ReplayRepository implements ReplayStore {
  readonly #db: Kysely<Database>
  #lastPurge = 0

  constructor(db: Kysely<Database>) {
    this.#db = db
  }

  /** True when this jti was not seen before (and is now recorded). */
  async claim(jti: string, expSeconds: number, trx?: Transaction<Database>): Promise<boolean> {
    const db = trx ?? this.#db
    const expiresAt = replayExpiresAt(expSeconds)
    const res = await db
      .insertInto('replay_nonces')
      .values({ jti, expires_at: expiresAt })
      .onConflict((oc) => oc.column('jti').doNothing())
      .executeTakeFirst()
    if (!trx) void this.#maybePurge()
    return Number(res.numInsertedOrUpdatedRows ?? 0n) === 1
  }

  /** Drop expired entries, at most once a minute per process. */
  async #maybePurge(): Promise<void> {
    const now = Date.now()
    if (now - this.#lastPurge < 60_000) return
    this.#lastPurge = now
    await this.#db.deleteFrom('replay_nonces').where('expires_at', '<', sql<Date>`now()`).execute().catch(() => undefined)
  }
}
