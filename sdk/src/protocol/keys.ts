/**
 * Node and sender keys as JWK (TMB-TRUST): Ed25519 for signatures, X25519
 * for encryption, `kid` = RFC 7638 thumbprint.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK } from 'jose'
import { TimbreError } from '../errors.js'
import type { webcrypto } from 'node:crypto'

type CryptoKey = webcrypto.CryptoKey

/** Signature algorithm of v1. */
export const SIGNATURE_ALG = 'EdDSA'
/** Key agreement algorithm of v1. */
export const KEY_AGREEMENT_ALG = 'ECDH-ES+A256KW'
/** Content encryption algorithm of v1. */
export const CONTENT_ENCRYPTION_ALG = 'A256GCM'

/** A public JWK as published in a JWKS, a directory line or a trust list. */
export interface PublicJwk {
  kty: 'OKP'
  crv: 'Ed25519' | 'X25519'
  x: string
  kid: string
  use: 'sig' | 'enc'
  alg: typeof SIGNATURE_ALG | typeof KEY_AGREEMENT_ALG
  /** Start of the key's validity (RFC 3339). */
  timbre_not_before?: string
  /** End of the key's validity; absent while the key is current. */
  timbre_not_after?: string
}

/** A private JWK: the public members plus `d`. Never sent on the wire. */
export interface PrivateJwk extends PublicJwk {
  d: string
}

/** A JWK Set. */
export interface Jwks {
  keys: PublicJwk[]
}

type AnyJwk = { kty?: string; crv?: string; x?: string; d?: string; [k: string]: unknown }

/**
 * RFC 7638 thumbprint (SHA-256, base64url) — the `kid` of every Timbre key.
 *
 * @example
 * ```ts
 * const kid = await jwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x })
 * ```
 */
export async function jwkThumbprint(jwk: AnyJwk): Promise<string> {
  if (jwk.kty !== 'OKP' || typeof jwk.crv !== 'string' || typeof jwk.x !== 'string') {
    throw new TimbreError('schema-violation', { detail: 'expected an OKP JWK with crv and x' })
  }
  return calculateJwkThumbprint({ kty: 'OKP', crv: jwk.crv, x: jwk.x }, 'sha256')
}

async function generate(kind: 'sig' | 'enc', notBefore: Date): Promise<PrivateJwk> {
  const { privateKey } =
    kind === 'sig'
      ? await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })
      : await generateKeyPair('ECDH-ES+A256KW', { crv: 'X25519', extractable: true })
  const jwk = (await exportJWK(privateKey)) as AnyJwk
  return {
    kty: 'OKP',
    crv: kind === 'sig' ? 'Ed25519' : 'X25519',
    x: jwk.x!,
    d: jwk.d!,
    kid: await jwkThumbprint(jwk),
    use: kind,
    alg: kind === 'sig' ? SIGNATURE_ALG : KEY_AGREEMENT_ALG,
    timbre_not_before: notBefore.toISOString(),
  }
}

/**
 * A new Ed25519 signing key (private JWK with `kid`).
 *
 * @example
 * ```ts
 * const senderKey = await generateSigningKey()
 * const publicKey = toPublicJwk(senderKey) // register this with the routing node
 * ```
 */
export function generateSigningKey(notBefore: Date = new Date()): Promise<PrivateJwk> {
  return generate('sig', notBefore)
}

/**
 * A new X25519 encryption key (private JWK with `kid`).
 *
 * @example
 * ```ts
 * const encKey = await generateEncryptionKey()
 * ```
 */
export function generateEncryptionKey(notBefore: Date = new Date()): Promise<PrivateJwk> {
  return generate('enc', notBefore)
}

/**
 * The public part of a key, with only the members Timbre publishes.
 *
 * @example
 * ```ts
 * const pub = toPublicJwk(privateKey) // no `d`
 * ```
 */
export function toPublicJwk(jwk: PublicJwk | PrivateJwk): PublicJwk {
  const pub: PublicJwk = { kty: 'OKP', crv: jwk.crv, x: jwk.x, kid: jwk.kid, use: jwk.use, alg: jwk.alg }
  if (jwk.timbre_not_before) pub.timbre_not_before = jwk.timbre_not_before
  if (jwk.timbre_not_after) pub.timbre_not_after = jwk.timbre_not_after
  return pub
}

/**
 * Check that a value is a usable public Timbre JWK of the wanted use, and
 * that its `kid` is its thumbprint. Rejects private members.
 *
 * @example
 * ```ts
 * const key = await assertPublicJwk(JSON.parse(file), 'sig')
 * ```
 */
export async function assertPublicJwk(value: unknown, use: 'sig' | 'enc'): Promise<PublicJwk> {
  const jwk = value as AnyJwk
  const crv = use === 'sig' ? 'Ed25519' : 'X25519'
  if (!jwk || typeof jwk !== 'object' || jwk.kty !== 'OKP' || jwk.crv !== crv || typeof jwk.x !== 'string') {
    throw new TimbreError('schema-violation', { detail: `expected a public ${crv} JWK` })
  }
  if ('d' in jwk) throw new TimbreError('schema-violation', { detail: 'the JWK holds a private key member (d)' })
  const kid = await jwkThumbprint(jwk)
  if (jwk.kid !== undefined && jwk.kid !== kid) {
    throw new TimbreError('schema-violation', { detail: 'the JWK kid is not its RFC 7638 thumbprint' })
  }
  return toPublicJwk({ ...(jwk as unknown as PublicJwk), kid, use, alg: use === 'sig' ? SIGNATURE_ALG : KEY_AGREEMENT_ALG })
}

const keyCache = new Map<string, CryptoKey | Uint8Array>()

/** @internal Import a JWK once and cache the CryptoKey (import is costly on hot paths). */
export async function importKey(jwk: PublicJwk | PrivateJwk, alg: string): Promise<CryptoKey | Uint8Array> {
  const isPrivate = 'd' in jwk && typeof jwk.d === 'string'
  const cacheKey = `${alg}|${jwk.crv}|${jwk.x}|${isPrivate ? jwk.d : ''}`
  let key = keyCache.get(cacheKey)
  if (!key) {
    const material: Record<string, string> = { kty: 'OKP', crv: jwk.crv, x: jwk.x }
    if (isPrivate) material.d = (jwk as PrivateJwk).d
    key = (await importJWK(material, alg)) as CryptoKey | Uint8Array
    if (keyCache.size > 10_000) keyCache.clear()
    keyCache.set(cacheKey, key)
  }
  return key
}
