// Webhooks to senders (spec 7.7): Standard Webhooks with Ed25519 `v1a`
// signatures by the node's current signing key (TMB-EVD-017), the same id
// and body on every retry, retried on a growing schedule of about three days
// (TMB-EVD-018, delivery.webhookRetrySeconds), then given up with a log line.
import { signWebhook } from '@timbre/sdk'
import { request, type Agent } from 'undici'
import type { RoutingServices } from '../domain/routing.js'

export interface WebhookPayload {
  url: string
  /** The evidence id: the webhook-id. */
  id: string
  /** The exact JSON body (webhook-payload.json). */
  body: string
}

export type WebhookResult = { ok: true } | { ok: false; error: string }

/** One webhook attempt. */
export async function sendWebhook(routing: RoutingServices, dispatcher: Agent, p: WebhookPayload): Promise<WebhookResult> {
  const headers = signWebhook({ id: p.id, body: p.body, key: routing.keys.signingKey, timestamp: Math.floor(routing.now().getTime() / 1000) })
  try {
    const res = await request(p.url, {
      method: 'POST',
      dispatcher,
      headers: { ...headers, 'content-type': 'application/json' },
      body: p.body,
      signal: AbortSignal.timeout(routing.config.delivery.relayTimeoutMs),
    })
    await res.body.dump().catch(() => undefined)
    return res.statusCode >= 200 && res.statusCode < 300 ? { ok: true } : { ok: false, error: `HTTP ${res.statusCode}` }
  } catch (err) {
    return { ok: false, error: `network: ${(err as Error).message}`.slice(0, 500) }
  }
}
