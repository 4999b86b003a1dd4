/**
 * Request authentication (TMB-AUTH): every sender and node call carries
 * `Authorization: Timbre <jws>`, a short-lived, single-use proof signed with
 * a key the caller holds (no shared secrets), bound to the method, path,
 * audience and exact body bytes.
 */
import { TimbreError } from '../errors.js'
import { sha256b64u } from '../internal/bytes.js'
import { peekPayload, signJws, verifyJws } from '../internal/jws.js'
import { uuidv7 } from './identifiers.js'
import type { PrivateJwk, PublicJwk } from './keys.js'

/** `typ` of a request proof. */
export const REQUEST_PROOF_TYP = 'timbre-request+jwt'
/** The `Authorization` scheme name. */
export const AUTH_SCHEME = 'Timbre'
/** Longest lifetime of a proof, and the tolerated clock skew, in seconds. */
export const MAX_PROOF_LIFETIME = 300

/** The claims of a request proof. */
export interface RequestProofClaims {
  iss: string
  aud: string
  htm: string
  htu: string
  iat: number
  exp: number
  jti: string
  bdg: string
}

/** What a caller needs to sign a request. */
export interface RequestProofInput {
  key: PrivateJwk
  iss: string
  aud: string
  method: string
  /** Path and query, e.g. `/v1/submissions`. */
  path: string
  body?: Uint8Array | string
  /** The base64url SHA-256 of a body too large to hold (an archive), used instead of `body`. */
  bodyDigest?: string
  now?: Date
  lifetimeSeconds?: number
}

/**
 * Sign a request; returns the full `Authorization` header value.
 *
 * @example
 * ```ts
 * const authorization = await createRequestProof({ key, iss: '0009:123', aud: 'router.example',
 *   method: 'POST', path: '/v1/submissions', body })
 * ```
 */
export async function createRequestProof(input: RequestProofInput): Promise<string> {
  const iat = Math.floor((input.now ?? new Date()).getTime() / 1000)
  const claims: RequestProofClaims = {
    iss: input.iss,
    aud: input.aud,
    htm: input.method.toUpperCase(),
    htu: input.path,
    iat,
    exp: iat + Math.min(input.lifetimeSeconds ?? 120, MAX_PROOF_LIFETIME),
    jti: uuidv7(),
    bdg: input.bodyDigest ?? sha256b64u(input.body ?? ''),
  }
  return `${AUTH_SCHEME} ${await signJws(claims, REQUEST_PROOF_TYP, input.key)}`
}

/** How a verifier resolves the caller's key from `iss` and `kid`. */
export type CallerKeyResolver = (iss: string, kid: string) => PublicJwk | undefined | Promise<PublicJwk | undefined>

/** What a verifier checks a proof against. */
export interface RequestProofCheck {
  aud: string
  method: string
  path: string
  body: Uint8Array | string | undefined
  /**
   * For a body too large to hold (an archive): its base64url SHA-256, used
   * instead of `body`. A receiver that streams the body passes the proof's own
   * `bdg` here, then compares it with the digest of the bytes it received.
   */
  bodyDigest?: string
  resolveKey: CallerKeyResolver
  now?: Date
}

/**
 * Verify a request proof. The caller must still record `jti` until `exp`
 * and refuse a second use with `request-replayed`.
 *
 * @example
 * ```ts
 * const claims = await verifyRequestProof(req.headers.authorization, {
 *   aud: nodeId, method: req.method, path: req.url, body: rawBody, resolveKey })
 * ```
 */
export async function verifyRequestProof(authorization: string | undefined, check: RequestProofCheck): Promise<RequestProofClaims & { kid: string }> {
  if (!authorization) throw new TimbreError('auth-required', { detail: 'Authorization: Timbre <proof> is required' })
  const [scheme, token, extra] = authorization.trim().split(/\s+/)
  if (scheme !== AUTH_SCHEME || !token || extra) throw new TimbreError('auth-required', { detail: 'the Authorization scheme must be Timbre' })
  const unverified = peekPayload<RequestProofClaims>(token)
  if (!unverified || typeof unverified.iss !== 'string') throw new TimbreError('auth-invalid', { detail: 'unreadable proof' })
  const { payload: c, kid } = await verifyJws<RequestProofClaims>(token, {
    typ: REQUEST_PROOF_TYP,
    resolveKey: (k) => check.resolveKey(unverified.iss, k),
    code: 'auth-invalid',
  })
  const fail = (detail: string): never => {
    throw new TimbreError('auth-invalid', { detail })
  }
  const now = Math.floor((check.now ?? new Date()).getTime() / 1000)
  if (c.iss !== unverified.iss) fail('issuer changed')
  if (c.aud !== check.aud) fail('the proof is for another audience')
  if (c.htm !== check.method.toUpperCase()) fail('the proof is for another method')
  if (c.htu !== check.path) fail('the proof is for another path')
  if (!Number.isInteger(c.iat) || !Number.isInteger(c.exp)) fail('iat and exp must be integers')
  if (c.iat > now + MAX_PROOF_LIFETIME) fail('the proof is issued in the future')
  if (c.exp < now) fail('the proof has expired')
  if (c.exp - c.iat > MAX_PROOF_LIFETIME) fail('the proof lives too long')
  if (typeof c.jti !== 'string' || c.jti.length < 16 || c.jti.length > 64) fail('jti is missing')
  if (c.bdg !== (check.bodyDigest ?? sha256b64u(check.body ?? ''))) fail('the body does not match the proof')
  return { ...c, kid }
}
