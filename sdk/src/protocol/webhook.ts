/**
 * Webhooks signed as Standard Webhooks with Ed25519 (`v1a`), TMB-SUB.
 * The string signed is `webhook-id.webhook-timestamp.body` over the exact
 * body bytes; the key is the routing node's current signing key, published
 * in its JWKS (so the 32-byte seed question of the spec never arises: we
 * exchange JWKs).
 */
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto'
import { TimbreError } from '../errors.js'
import type { PrivateJwk, PublicJwk } from './keys.js'

/** Default tolerance for `webhook-timestamp`, in seconds. */
export const WEBHOOK_TOLERANCE_SECONDS = 300

/** The three Standard Webhooks headers. */
export interface WebhookHeaders {
  'webhook-id': string
  'webhook-timestamp': string
  'webhook-signature': string
}

function signedBytes(id: string, timestamp: string, body: Uint8Array | string): Buffer {
  return Buffer.concat([Buffer.from(`${id}.${timestamp}.`), typeof body === 'string' ? Buffer.from(body) : Buffer.from(body)])
}

/**
 * Sign a webhook body (routing node side).
 *
 * @example
 * ```ts
 * const headers = signWebhook({ id: evidenceId, body: JSON.stringify(payload), key: nodeKey })
 * ```
 */
export function signWebhook(input: { id: string; body: Uint8Array | string; key: PrivateJwk; timestamp?: number }): WebhookHeaders {
  const timestamp = String(input.timestamp ?? Math.floor(Date.now() / 1000))
  const key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x: input.key.x, d: input.key.d }, format: 'jwk' })
  const signature = sign(null, signedBytes(input.id, timestamp, input.body), key).toString('base64')
  return { 'webhook-id': input.id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1a,${signature}` }
}

/**
 * Verify a webhook (sender side). Accepts several signatures separated by
 * spaces (key rotation); any `v1a` one made by a given key is enough.
 *
 * @example
 * ```ts
 * verifyWebhookSignature({ headers: req.headers, body: rawBody, keys: routerJwks.keys })
 * ```
 */
export function verifyWebhookSignature(input: {
  headers: Record<string, string | string[] | undefined>
  body: Uint8Array | string
  keys: PublicJwk[]
  now?: number
  toleranceSeconds?: number
}): { id: string; timestamp: number } {
  const h = (name: string) => {
    const v = input.headers[name]
    return Array.isArray(v) ? v[0] : v
  }
  const id = h('webhook-id')
  const ts = h('webhook-timestamp')
  const sig = h('webhook-signature')
  if (!id || !ts || !sig) throw new TimbreError('auth-invalid', { detail: 'webhook headers are missing' })
  const timestamp = Number(ts)
  const now = input.now ?? Math.floor(Date.now() / 1000)
  if (!Number.isInteger(timestamp) || Math.abs(now - timestamp) > (input.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS)) {
    throw new TimbreError('auth-invalid', { detail: 'webhook timestamp outside the tolerance' })
  }
  const data = signedBytes(id, ts, input.body)
  const candidates = sig.split(' ').filter((s) => s.startsWith('v1a,')).map((s) => Buffer.from(s.slice(4), 'base64'))
  for (const jwk of input.keys) {
    if (jwk.crv !== 'Ed25519') continue
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' })
    if (candidates.some((c) => c.length === 64 && verify(null, data, key, c))) return { id, timestamp }
  }
  throw new TimbreError('auth-invalid', { detail: 'no valid v1a webhook signature' })
}
