// The node's own keys (TMB-TRUST): one current Ed25519 signing key and one
// current X25519 encryption key, plus every retired key, which stays
// published so evidence signed years ago still verifies.
import { generateEncryptionKey, generateSigningKey, toPublicJwk, type Jwks, type PrivateJwk, type PublicJwk } from '@timbre/sdk'
import type { NodeKeyRecord } from '../store/node-keys-repository.js'

/** What the keyring needs from storage. */
export interface NodeKeyStore {
  list(): Promise<NodeKeyRecord[]>
  insertCurrentIfAbsent(key: NodeKeyRecord): Promise<boolean>
}

/** The node's keys, loaded once at start. */
export class NodeKeyring {
  readonly #records: readonly NodeKeyRecord[]
  readonly #signing: PrivateJwk
  readonly #encryption: PrivateJwk

  constructor(records: readonly NodeKeyRecord[]) {
    const current = (use: 'sig' | 'enc'): PrivateJwk => {
      const r = records.find((k) => k.use === use && k.notAfter === null)
      if (!r) throw new Error(`no current ${use} key`)
      return r.privateJwk as unknown as PrivateJwk
    }
    this.#records = records
    this.#signing = current('sig')
    this.#encryption = current('enc')
  }

  /** Current Ed25519 key: signs evidence, directory lines, request proofs, webhooks. */
  get signingKey(): PrivateJwk {
    return this.#signing
  }

  /** Current X25519 key: senders encrypt content for this vault operator with it. */
  get encryptionKey(): PrivateJwk {
    return this.#encryption
  }

  /** A private key by kid, current or retired (decrypting content sealed before a rotation). */
  privateKey(kid: string): PrivateJwk | undefined {
    return this.#records.find((r) => r.kid === kid)?.privateJwk as unknown as PrivateJwk | undefined
  }

  /** Every public key with its validity window: the body of `/.well-known/jwks.json`. */
  jwks(): Jwks {
    return {
      keys: this.#records.map((r) => {
        const pub: PublicJwk = { ...toPublicJwk(r.publicJwk as unknown as PublicJwk), timbre_not_before: r.notBefore.toISOString() }
        if (r.notAfter) pub.timbre_not_after = r.notAfter.toISOString()
        else delete pub.timbre_not_after
        return pub
      }),
    }
  }
}

function toRecord(jwk: PrivateJwk, notBefore: Date): NodeKeyRecord {
  return { kid: jwk.kid, use: jwk.use, alg: jwk.alg, privateJwk: { ...jwk }, publicJwk: { ...toPublicJwk(jwk) }, notBefore, notAfter: null }
}

/**
 * Load the node's keys, generating the missing current ones. Several processes
 * sharing one PostgreSQL may race here: each inserts if absent, and all then
 * read back the same winners.
 */
export async function loadOrCreateNodeKeys(store: NodeKeyStore, now: Date = new Date()): Promise<{ keyring: NodeKeyring; created: string[] }> {
  const created: string[] = []
  const existing = await store.list()
  for (const use of ['sig', 'enc'] as const) {
    if (existing.some((k) => k.use === use && k.notAfter === null)) continue
    const jwk = use === 'sig' ? await generateSigningKey(now) : await generateEncryptionKey(now)
    if (await store.insertCurrentIfAbsent(toRecord(jwk, now))) created.push(jwk.kid)
  }
  const records = created.length > 0 || existing.length === 0 ? await store.list() : existing
  return { keyring: new NodeKeyring(records), created }
}
