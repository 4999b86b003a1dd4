import { sha256b64u } from '../internal/bytes.js'

/** A content digest as carried in envelopes and evidence. Only SHA-256 is defined in v1. */
export interface Digest {
  alg: 'sha-256'
  /** base64url (no padding) of the 32-byte digest. */
  value: string
}

/**
 * Digest of a document's bytes.
 *
 * @example
 * ```ts
 * const d = contentDigest(new TextEncoder().encode('hello'))
 * d.alg // 'sha-256'
 * ```
 */
export function contentDigest(bytes: Uint8Array | string): Digest {
  return { alg: 'sha-256', value: sha256b64u(bytes) }
}

/**
 * Digest of a compact JWS or JWE string, as referenced from other tokens.
 *
 * @example
 * ```ts
 * const ref = tokenDigest(stampJws) // equals evidence.envelopeDigest for the envelope token
 * ```
 */
export function tokenDigest(token: string): string {
  return sha256b64u(token)
}

/**
 * Constant-shape comparison of two digests.
 *
 * @example
 * ```ts
 * digestEquals(contentDigest(bytes), envelope.content.digest)
 * ```
 */
export function digestEquals(a: Digest | undefined, b: Digest | undefined): boolean {
  return !!a && !!b && a.alg === b.alg && a.value === b.value
}
