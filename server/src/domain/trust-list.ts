// The trust list this directory node publishes (spec 3.4, TMB-TRUST-014/-015/-020).
// In the reference network the directory node also plays the network
// authority: it signs the list with its own key, and `issuer` is its node id.
// The SDK has no trust-list signer, so the JWS is made here with jose, with
// the header every Timbre JWS carries (TMB-TRUST-025).
import { CompactSign, importJWK } from 'jose'
import { assertSchema, SIGNATURE_ALG, type PrivateJwk } from '@timbre/sdk'
import type { OperatorsRepository } from '../store/operators-repository.js'

export const TRUST_LIST_TYP = 'timbre-trust-list+jws'
/** Nodes must refresh by `nextUpdate` (TMB-TRUST-017); hourly is the SHOULD. */
const NEXT_UPDATE_MS = 3_600_000

export interface TrustListPayload {
  v: 1
  issuer: string
  issuedAt: string
  nextUpdate: string
  sequence: number
  operators: Array<{ id: string; roles: string[]; baseUrl: string; keyThumbprints: string[]; status: string }>
  revocations: Array<{ kid: string; operator: string; revokedAt: string; reason?: string }>
}

export class TrustListPublisher {
  readonly #operators: OperatorsRepository
  readonly #issuer: string
  readonly #key: PrivateJwk

  constructor(operators: OperatorsRepository, issuer: string, key: PrivateJwk) {
    this.#operators = operators
    this.#issuer = issuer
    this.#key = key
  }

  /** The payload now. `sequence` = 1 + the latest operator revision: it grows with every change. */
  async payload(now: Date = new Date()): Promise<TrustListPayload> {
    const rows = await this.#operators.list()
    const sequence = rows.reduce((max, r) => (r.revision > max ? r.revision : max), 0n) + 1n
    const payload: TrustListPayload = {
      v: 1,
      issuer: this.#issuer,
      issuedAt: now.toISOString(),
      nextUpdate: new Date(now.getTime() + NEXT_UPDATE_MS).toISOString(),
      sequence: Number(sequence),
      operators: rows
        .filter((r) => r.keyThumbprints.length > 0)
        .map((r) => ({ id: r.id, roles: r.roles, baseUrl: r.baseUrl, keyThumbprints: r.keyThumbprints, status: r.status })),
      revocations: [],
    }
    return assertSchema<TrustListPayload>('trust-list.json', payload)
  }

  async sign(now: Date = new Date()): Promise<string> {
    const payload = await this.payload(now)
    const key = await importJWK({ kty: 'OKP', crv: 'Ed25519', x: this.#key.x, d: this.#key.d }, SIGNATURE_ALG)
    return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader({ alg: SIGNATURE_ALG, typ: TRUST_LIST_TYP, kid: this.#key.kid })
      .sign(key)
  }
}
