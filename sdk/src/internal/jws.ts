/**
 * Compact JWS signing and verification with the RFC 8725 rules of
 * TMB-TRUST: one algorithm (EdDSA), an explicit `typ` per token kind, the
 * key chosen by `kid` from a set the verifier already trusts, never from
 * the token.
 */
import { CompactSign, compactVerify, decodeProtectedHeader } from 'jose'
import { TimbreError, type ErrorCode } from '../errors.js'
import { fromUtf8, utf8 } from './bytes.js'
import { importKey, SIGNATURE_ALG, type PrivateJwk, type PublicJwk } from '../protocol/keys.js'
import type { KeyResolver } from '../protocol/key-set.js'

export interface SignedToken<T> {
  payload: T
  kid: string
  typ: string
  key: PublicJwk
}

export async function signJws(payload: unknown, typ: string, key: PrivateJwk): Promise<string> {
  if (key.crv !== 'Ed25519') throw new TimbreError('internal-error', { detail: 'signing needs an Ed25519 key' })
  const cryptoKey = await importKey(key, SIGNATURE_ALG)
  return new CompactSign(utf8(JSON.stringify(payload)))
    .setProtectedHeader({ alg: SIGNATURE_ALG, typ, kid: key.kid })
    .sign(cryptoKey)
}

export function peekHeader(token: string): Record<string, unknown> | undefined {
  try {
    return decodeProtectedHeader(token) as Record<string, unknown>
  } catch {
    return undefined
  }
}

/** Decode the payload of a compact JWS without verifying it. */
export function peekPayload<T>(token: string): T | undefined {
  const parts = typeof token === 'string' ? token.split('.') : []
  if (parts.length !== 3) return undefined
  try {
    return JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as T
  } catch {
    return undefined
  }
}

export interface VerifyOptions {
  typ: string
  resolveKey: KeyResolver
  /** Time at which the key must have been valid (for evidence: its `time`). */
  at?: (payload: any) => Date | undefined
  code: ErrorCode
}

export async function verifyJws<T>(token: string, options: VerifyOptions): Promise<SignedToken<T>> {
  const fail = (detail: string): never => {
    throw new TimbreError(options.code, { detail })
  }
  if (typeof token !== 'string' || token.split('.').length !== 3) fail('not a compact JWS')
  const header = peekHeader(token) ?? fail('unreadable protected header')
  if (header.alg !== SIGNATURE_ALG) fail(`algorithm ${String(header.alg)} is not allowed`)
  if (header.typ !== options.typ) fail(`typ must be ${options.typ}`)
  if (typeof header.kid !== 'string') fail('kid is missing')
  if ('crit' in header || 'jku' in header || 'jwk' in header || 'x5u' in header) {
    fail('header members crit, jku, jwk and x5u are not allowed')
  }
  const kid = header.kid as string
  const unverified = peekPayload<T>(token) ?? fail('payload is not JSON')
  const at = options.at?.(unverified)
  const key = (await options.resolveKey(kid, at)) ?? fail(`no trusted key with kid ${kid}${at ? ' valid at ' + at.toISOString() : ''}`)
  if (key.crv !== 'Ed25519' || key.use === 'enc') fail('the key is not a signing key')
  let payloadBytes: Uint8Array
  try {
    const result = await compactVerify(token, await importKey(key, SIGNATURE_ALG), { algorithms: [SIGNATURE_ALG] })
    payloadBytes = result.payload
  } catch {
    return fail('signature verification failed')
  }
  let payload: T
  try {
    payload = JSON.parse(fromUtf8(payloadBytes)) as T
  } catch {
    return fail('payload is not JSON')
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) fail('payload is not a JSON object')
  return { payload, kid, typ: options.typ, key }
}

/**
 * Sign exact payload text (e.g. a JCS serialisation, RFC 8785), so that two
 * signers of the same payload produce byte-identical payload segments.
 */
export async function signJwsText(text: string, typ: string, key: PrivateJwk): Promise<string> {
  if (key.crv !== 'Ed25519') throw new TimbreError('internal-error', { detail: 'signing needs an Ed25519 key' })
  const cryptoKey = await importKey(key, SIGNATURE_ALG)
  return new CompactSign(utf8(text)).setProtectedHeader({ alg: SIGNATURE_ALG, typ, kid: key.kid }).sign(cryptoKey)
}
