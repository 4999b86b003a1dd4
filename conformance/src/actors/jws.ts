/**
 * Raw token forging for negative tests: the SDK signs only well-formed
 * tokens, the suite also needs wrong headers, `none`, HS256 and tampered
 * signatures.
 */
import { createHmac } from 'node:crypto'
import { CompactSign, CompactEncrypt, importJWK } from 'jose'
import type { PrivateJwk, PublicJwk } from '@timbre/sdk'

const b64u = (data: string | Uint8Array) => Buffer.from(data).toString('base64url')

/** Sign `payload` with an Ed25519 key and any protected header (alg forced to EdDSA unless given). */
export async function signRaw(payload: unknown, header: Record<string, unknown>, key: PrivateJwk): Promise<string> {
  const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : new TextEncoder().encode(JSON.stringify(payload))
  const k = await importJWK({ kty: 'OKP', crv: 'Ed25519', x: key.x, d: key.d }, 'EdDSA')
  return new CompactSign(bytes).setProtectedHeader({ alg: 'EdDSA', ...header } as any).sign(k)
}

/**
 * A JWS with `alg: none`. The signature part is 64 junk bytes rather than
 * empty, so that it passes the compact-JWS shape of the schemas and reaches
 * the verifier's algorithm check (an empty one would only test the schema).
 */
export function unsignedJws(payload: unknown, header: Record<string, unknown>): string {
  return `${b64u(JSON.stringify({ ...header, alg: 'none' }))}.${b64u(JSON.stringify(payload))}.${b64u(new Uint8Array(64).fill(0x41))}`
}

/** An HS256 JWS keyed with a public value (the classic algorithm-confusion attack). */
export function hs256Jws(payload: unknown, header: Record<string, unknown>, secret: string): string {
  const input = `${b64u(JSON.stringify({ ...header, alg: 'HS256' }))}.${b64u(JSON.stringify(payload))}`
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}

/** The same token with one bit of its signature flipped. */
export function tamperSignature(jws: string): string {
  const [h, p, s] = jws.split('.')
  const sig = Buffer.from(s!, 'base64url')
  sig[0] = sig[0]! ^ 0x01
  return `${h}.${p}.${sig.toString('base64url')}`
}

/** Decode the protected header and payload of a compact JWS. */
export function decodeJws(jws: string): { header: Record<string, any>; payload: any } {
  const [h, p] = jws.split('.')
  return { header: JSON.parse(Buffer.from(h!, 'base64url').toString('utf8')), payload: JSON.parse(Buffer.from(p!, 'base64url').toString('utf8')) }
}

/** Encrypt for an X25519 key with any protected header (for JWE header negatives). */
export async function encryptRaw(plaintext: Uint8Array, header: Record<string, unknown>, key: PublicJwk): Promise<string> {
  const k = await importJWK({ kty: 'OKP', crv: 'X25519', x: key.x }, 'ECDH-ES+A256KW')
  return new CompactEncrypt(plaintext).setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', ...header } as any).encrypt(k)
}
