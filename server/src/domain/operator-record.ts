// Operator rows as the seam (OperatorRecord) and the wire (operator.json) show them,
// and the key questions asked of them.
import { KeySet, type Jwks, type PublicJwk } from '@timbre/sdk'
import type { OperatorRow } from '../store/operators-repository.js'
import type { OperatorRecord } from './directory-view.js'

export function toOperatorRecord(r: OperatorRow): OperatorRecord {
  return { id: r.id, baseUrl: r.baseUrl, relayEndpoint: r.relayEndpoint, roles: [...r.roles], status: r.status, jwks: r.jwks as unknown as Jwks }
}

/** The wire form of `GET /v1/directory/operators/{id}` (spec operator.json). */
export function operatorBody(r: OperatorRecord & { name?: string | null }): Record<string, unknown> {
  return {
    id: r.id,
    ...(r.name ? { name: r.name } : {}),
    roles: r.roles,
    baseUrl: r.baseUrl,
    relayEndpoint: r.relayEndpoint,
    jwks: r.jwks,
    status: r.status,
  }
}

/** An active operator's signing key by kid, valid at `at` when given (TMB-TRUST-018). */
export function signingKeyOf(op: OperatorRecord | undefined, kid: string, at?: Date): PublicJwk | undefined {
  if (!op || op.status !== 'active') return undefined
  const key = new KeySet(op.jwks.keys.filter((k) => k.crv === 'Ed25519' && (k.use ?? 'sig') === 'sig')).get(kid, at)
  return key
}

/** The operator's current X25519 keys as a directory line lists them (TMB-DIR-001, -006). */
export function currentEncryptionKeys(op: OperatorRecord, now: Date): PublicJwk[] {
  return op.jwks.keys
    .filter((k) => k.crv === 'X25519' && (k.use ?? 'enc') === 'enc')
    .filter((k) => !k.timbre_not_after || Date.parse(k.timbre_not_after) > now.getTime())
    .map((k) => ({ kty: 'OKP', crv: 'X25519', x: k.x, kid: k.kid, use: 'enc', alg: 'ECDH-ES+A256KW' }))
}
