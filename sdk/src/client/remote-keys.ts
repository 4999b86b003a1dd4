/**
 * A cached set of keys fetched from a node (its JWKS, or an operator record
 * of the directory). A `kid` it does not know triggers one refetch, at most
 * every `minRefreshMs`, so key rotation needs no restart and an attacker
 * cannot make the client hammer the node with unknown kids.
 */
import { KeySet, type KeyResolver } from '../protocol/key-set.js'
import type { PublicJwk } from '../protocol/keys.js'

/** @internal */
export class RemoteKeys {
  #load: () => Promise<PublicJwk[]>
  #minRefreshMs: number
  #current: Promise<KeySet> | undefined
  #loadedAt = 0

  constructor(load: () => Promise<PublicJwk[]>, minRefreshMs = 30_000) {
    this.#load = load
    this.#minRefreshMs = minRefreshMs
  }

  /** The cached set, loading it on first use. */
  get(): Promise<KeySet> {
    if (!this.#current) {
      const loading = this.#load().then((keys) => new KeySet(keys))
      this.#current = loading
      this.#loadedAt = Date.now()
      // A failed load is not cached: the next call tries again.
      loading.catch(() => {
        if (this.#current === loading) this.#current = undefined
      })
    }
    return this.#current
  }

  /** Reload unless the last load is too recent; true when it reloaded. */
  async refresh(): Promise<boolean> {
    if (this.#current && Date.now() - this.#loadedAt < this.#minRefreshMs) return false
    this.#current = undefined
    await this.get()
    return true
  }

  /** A resolver that refetches once on an unknown kid. */
  resolver(): KeyResolver {
    return async (kid, at) => {
      const set = await this.get()
      if (set.get(kid)) return set.get(kid, at)
      return (await this.refresh()) ? (await this.get()).get(kid, at) : undefined
    }
  }
}
