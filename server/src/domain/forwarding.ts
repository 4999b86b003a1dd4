// One relay attempt (spec 6.1, 6.4): resolve the line valid now, POST the
// envelope, content, stamp, sender key and route with a request proof of
// this node (iss = node id, aud = the line's operator), and read the answer
// per spec 10.1. Nothing here writes to the database: the worker records
// the outcome in one transaction.
import {
  createRequestProof,
  decodeEvidence,
  isErrorCode,
  TimbreError,
  verifyEvidence,
  type Evidence,
  type PublicJwk,
} from '@timbre/sdk'
import { Agent, request } from 'undici'
import type { ResolvedLine } from './directory-view.js'
import type { RoutingServices } from './routing.js'

/** What the worker needs of a delivery to relay it. */
export interface RelayableDelivery {
  sender_id: string
  message_id: string
  recipient: string
  envelope: string
  content: string
  stamp: string
  content_digest: { alg: 'sha-256'; value: string }
  recipient_operator: string | null
}

export interface SignedEvidence {
  jws: string
  evidence: Evidence
}

export type RelayOutcome =
  /** 200/201 with a verified DepositAcceptance or ContentImport (TMB-RLY-024). */
  | { kind: 'delivered'; line: ResolvedLine; vault: SignedEvidence }
  /** 409 recipient-moved, or the line names another operator than the stamp (TMB-RLY-023, TMB-PORT-024). */
  | { kind: 'moved'; detail: string; vault?: SignedEvidence }
  /** A final refusal (TMB-RTY-001, TMB-RLY-026/027). */
  | { kind: 'rejected'; code: string; detail: string; vault?: SignedEvidence }
  /** Try again later (TMB-RTY-001); `retryAfterMs` from Retry-After is a lower bound (TMB-RTY-002). */
  | { kind: 'retry'; error: string; retryAfterMs?: number }

const RETRY_STATUSES = new Set([408, 425, 429])

/** `Retry-After` in seconds or as an HTTP date, in milliseconds from `now`. */
export function parseRetryAfter(value: string | string[] | undefined, now: Date): number | undefined {
  const v = Array.isArray(value) ? value[0] : value
  if (v === undefined) return undefined
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000
  const at = Date.parse(v)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime())
}

const sameDigest = (a: { alg: string; value: string } | undefined, b: { alg: string; value: string }) => !!a && a.alg === b.alg && a.value === b.value

export class Forwarder {
  readonly #r: RoutingServices
  readonly #agent: Agent

  constructor(routing: RoutingServices) {
    this.#r = routing
    const timeout = routing.config.delivery.relayTimeoutMs
    // Keep-alive connections to each vault node, bounded per origin.
    this.#agent = new Agent({
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 120_000,
      connections: Math.max(4, routing.config.delivery.concurrency),
      headersTimeout: timeout,
      bodyTimeout: timeout,
      connect: { timeout: Math.min(timeout, 10_000) },
    })
  }

  get dispatcher(): Agent {
    return this.#agent
  }

  async close(): Promise<void> {
    await this.#agent.close().catch(() => undefined)
  }

  // Vault evidence must verify with the keys the directory lists for the line's operator.
  async #verifyVault(jws: string, operator: string, d: RelayableDelivery, events: Evidence['event'][]): Promise<SignedEvidence> {
    const evidence = await verifyEvidence(jws, (kid, at) => this.#r.directory.nodeKey(operator, kid, at), { issuer: operator, messageId: d.message_id, event: events })
    if (evidence.sender !== d.sender_id || evidence.recipient !== d.recipient || !sameDigest(evidence.contentDigest, d.content_digest)) {
      throw new TimbreError('evidence-invalid', { detail: 'the evidence names another delivery' })
    }
    return { jws, evidence }
  }

  async relay(d: RelayableDelivery, senderKey: PublicJwk): Promise<RelayOutcome> {
    const now = this.#r.now()
    let resolved: ResolvedLine | undefined
    try {
      resolved = await this.#r.directory.lookup(d.recipient, now)
    } catch (err) {
      return { kind: 'retry', error: `directory lookup failed: ${(err as Error).message}` }
    }
    if (!resolved) return { kind: 'retry', error: 'no directory line is valid for the recipient now' }
    const { line } = resolved
    // TMB-RLY-023: the address moved since the stamp; do not relay to the old operator.
    const stampOperator = d.recipient_operator ?? decodeEvidence(d.stamp).recipientOperator
    if (stampOperator && line.operator !== stampOperator) {
      return { kind: 'moved', detail: `the directory line now names ${line.operator}` }
    }
    const body = JSON.stringify({ envelope: d.envelope, content: d.content, stamp: d.stamp, senderKey, route: resolved.jws })
    let url: URL
    try {
      url = new URL(line.relayEndpoint)
    } catch {
      return { kind: 'retry', error: 'the line has no usable relayEndpoint' }
    }
    const authorization = await createRequestProof({
      key: this.#r.keys.signingKey,
      iss: this.#r.config.nodeId,
      aud: line.operator,
      method: 'POST',
      path: url.pathname + url.search,
      body,
      now,
    })
    let status: number
    let headers: Record<string, string | string[] | undefined>
    let text: string
    try {
      const res = await request(url, {
        method: 'POST',
        dispatcher: this.#agent,
        headers: { 'content-type': 'application/json', authorization },
        body,
        signal: AbortSignal.timeout(this.#r.config.delivery.relayTimeoutMs),
      })
      status = res.statusCode
      headers = res.headers
      text = await res.body.text()
    } catch (err) {
      return { kind: 'retry', error: `network: ${(err as Error).name}: ${(err as Error).message}`.slice(0, 500) }
    }
    let json: Record<string, unknown> | undefined
    try {
      const parsed = JSON.parse(text) as unknown
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) json = parsed as Record<string, unknown>
    } catch { /* not JSON */ }
    const retryAfterMs = parseRetryAfter(headers['retry-after'], this.#r.now())
    const retry = (error: string): RelayOutcome => ({ kind: 'retry', error, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) })

    if (status === 200 || status === 201) {
      if (typeof json?.evidence !== 'string') return retry(`${status} without evidence`)
      try {
        return { kind: 'delivered', line: resolved, vault: await this.#verifyVault(json.evidence, line.operator, d, ['DepositAcceptance', 'ContentImport']) }
      } catch (err) {
        return retry(`${status} whose evidence does not verify: ${(err as Error).message}`)
      }
    }
    const code = typeof json?.code === 'string' ? json.code : undefined
    if (RETRY_STATUSES.has(status) || status >= 500 || json?.retryable === true || code === 'idempotency-in-progress') {
      return retry(`${status}${code ? ` ${code}` : ''}`)
    }
    if (status < 400) return retry(`unexpected status ${status}`)
    // A final 4xx. Keep a DepositRejection that verifies (TMB-RLY-027).
    let vault: SignedEvidence | undefined
    if (typeof json?.evidence === 'string') {
      vault = await this.#verifyVault(json.evidence, line.operator, d, ['DepositRejection']).catch(() => undefined)
    }
    const detail = typeof json?.detail === 'string' ? json.detail.slice(0, 1000) : `HTTP ${status}`
    if (status === 409 && code === 'recipient-moved') {
      const to = typeof json?.operator === 'string' ? ` to ${json.operator}` : ''
      return { kind: 'moved', detail: `the vault answered recipient-moved${to}`, ...(vault ? { vault } : {}) }
    }
    return { kind: 'rejected', code: code && isErrorCode(code) ? code : 'relay-refused', detail, ...(vault ? { vault } : {}) }
  }
}
