// A short-lived in-process cache of the senders' key and status, read on
// every submission (step 3). Updates through SendersRepository in this
// process invalidate it at once; a change made by another process on the same
// database (the `timbre senders` CLI on PostgreSQL, another node) is seen
// within SENDER_CACHE_TTL_MS. Only senders found are cached: a sender
// registered anywhere is usable at once.
import type { Kysely } from 'kysely'
import type { Database } from './schema.js'

export const SENDER_CACHE_TTL_MS = 2_000
const MAX_ENTRIES = 10_000

export interface CachedSender {
  id: string
  jwk: unknown
  kid: string
  status: string
}

export class SenderCache {
  readonly #entries = new Map<string, { row: CachedSender; expires: number }>()
  #generation = 0

  async get(id: string, load: () => Promise<CachedSender | undefined>, now = Date.now()): Promise<CachedSender | undefined> {
    const hit = this.#entries.get(id)
    if (hit && hit.expires > now) return hit.row
    const generation = this.#generation
    const row = await load()
    // An update that landed while we were reading wins: do not cache what we read.
    if (row && generation === this.#generation) {
      this.#entries.delete(id)
      this.#entries.set(id, { row, expires: now + SENDER_CACHE_TTL_MS })
      if (this.#entries.size > MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value as string)
    }
    return row
  }

  invalidate(id: string): void {
    this.#generation++
    this.#entries.delete(id)
  }
}

const caches = new WeakMap<Kysely<Database>, SenderCache>()

/** The cache of one database handle (one per node in a process). */
export function senderCache(db: Kysely<Database>): SenderCache {
  let c = caches.get(db)
  if (!c) caches.set(db, (c = new SenderCache()))
  return c
}
