/**
 * A set of trusted public keys with validity windows (TMB-TRUST, TMB-EVD):
 * evidence signed years ago verifies with the key that was valid then, even
 * after rotation, because verification keys are never removed.
 */
import type { Jwks, PublicJwk } from './keys.js'

/** Resolves a `kid` to a trusted public key, optionally at a point in time. */
export type KeyResolver = (kid: string, at?: Date) => PublicJwk | undefined | Promise<PublicJwk | undefined>

/**
 * An in-memory key set built from one or more JWKS documents.
 *
 * @example
 * ```ts
 * const keys = new KeySet((await (await fetch(url + '/.well-known/jwks.json')).json()).keys)
 * await verifyEvidence(jws, keys.resolver())
 * ```
 */
export class KeySet {
  #byKid = new Map<string, PublicJwk>()

  constructor(keys: Iterable<PublicJwk> = []) {
    for (const k of keys) this.add(k)
  }

  /** Add (or replace) a key. */
  add(key: PublicJwk): this {
    this.#byKid.set(key.kid, key)
    return this
  }

  /** Add every key of a JWKS. */
  addJwks(jwks: Jwks): this {
    for (const k of jwks.keys) this.add(k)
    return this
  }

  /** The key with this kid if it was valid at `at` (default: no time check). */
  get(kid: string, at?: Date): PublicJwk | undefined {
    const key = this.#byKid.get(kid)
    if (!key || !at) return key
    if (key.timbre_not_before && at.getTime() < Date.parse(key.timbre_not_before) - 300_000) return undefined
    if (key.timbre_not_after && at.getTime() > Date.parse(key.timbre_not_after)) return undefined
    return key
  }

  /** Every key, in insertion order. */
  list(): PublicJwk[] {
    return [...this.#byKid.values()]
  }

  /** A {@link KeyResolver} over this set. */
  resolver(): KeyResolver {
    return (kid, at) => this.get(kid, at)
  }
}
