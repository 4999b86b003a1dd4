/**
 * Handover evidence (spec 7.6): issued by the vault operator when the person
 * first opens or downloads a document, and pushed to the routing node that
 * issued the stamp (`POST {endpoints.evidence}`, TMB-EVD-014/015/016).
 */
import { request, type Dispatcher } from 'undici'
import { decodeEvidence, signEvidence, type Evidence } from '../protocol/evidence.js'
import type { PrivateJwk } from '../protocol/keys.js'
import { createRequestProof } from '../protocol/request-auth.js'
import type { DepositRecord } from './storage/types.js'

/** Which deliveries get a `Handover`: `registered` ones (TMB-EVD-015) or every one (TMB-EVD-016). */
export type HandoverClasses = 'registered' | 'all'

/** A `Handover` evidence just issued, to be brought to the stamp's issuer. */
export interface IssuedHandover {
  /** The Handover evidence JWS. */
  jws: string
  /** Its payload. */
  evidence: Evidence
  /** The routing node to push it to: the stamp's `issuer`. */
  routingNode: string
  /** The deposit record it belongs to. */
  record: DepositRecord
}

/** The outcome of one push of an evidence to a routing node. */
export interface EvidencePushResult {
  /** HTTP status, or 0 for a network error or timeout. */
  status: number
  /**
   * `done`: 202 (attached) or 404 (the routing node does not know the
   * delivery) — stop; `retry`: network error, 408, 425, 429, 5xx or a
   * problem with `retryable: true` (chapter 10); `refused`: any other answer, final.
   */
  outcome: 'done' | 'retry' | 'refused'
  /** The problem `code`, when the answer had one. */
  code?: string
  /** `Retry-After` in milliseconds, when given. */
  retryAfterMs?: number
  /** A short description for logs. */
  error?: string
}

/**
 * Does a deposit get a Handover under `classes`: every one for `all`, only a
 * `registered` stamp for `registered`?
 *
 * @example
 * ```ts
 * if (handoverApplies(record, 'registered')) await kit.openDocument(record.address, record.messageId)
 * ```
 */
export function handoverApplies(record: DepositRecord, classes: HandoverClasses): boolean {
  if (classes === 'all') return true
  return decodeEvidence(record.stamp).stampClass === 'registered'
}

/**
 * Sign the `Handover` of a deposit: it follows the operator's own
 * `DepositAcceptance` (or `ContentImport`) of the record (7.2 chaining) and
 * copies its references.
 *
 * @example
 * ```ts
 * const { jws } = await signHandover(record, 'vault-b.example', nodeKey)
 * ```
 */
export async function signHandover(record: DepositRecord, operatorId: string, key: PrivateJwk, now: Date = new Date()): Promise<IssuedHandover> {
  const deposit = decodeEvidence(record.evidence)
  const stamp = decodeEvidence(record.stamp)
  const { jws, evidence } = await signEvidence(
    {
      event: 'Handover',
      issuer: operatorId,
      time: now.toISOString(),
      messageId: record.messageId,
      sender: record.sender,
      recipient: record.address,
      contentDigest: deposit.contentDigest,
      envelopeDigest: deposit.envelopeDigest,
      ...(deposit.senderKid ?? stamp.senderKid ? { senderKid: (deposit.senderKid ?? stamp.senderKid)! } : {}),
      recipientOperator: operatorId,
      ...(stamp.stampClass ? { stampClass: stamp.stampClass } : {}),
      previousEvidenceId: deposit.evidenceId,
    },
    key,
  )
  return { jws, evidence, routingNode: stamp.issuer, record }
}

const RETRY_STATUSES = new Set([408, 425, 429])

/** Options of {@link pushEvidence}. */
export interface PushEvidenceOptions {
  /** The routing node's evidence endpoint (`endpoints.evidence`, by default `{base}/v1/evidence`). */
  url: string
  /** The evidence JWS. */
  evidence: string
  /** This operator's id (the proof's `iss`). */
  operatorId: string
  /** The routing node's operator id (the proof's `aud`). */
  routingNode: string
  /** This operator's signing key. */
  signingKey: PrivateJwk
  dispatcher?: Dispatcher
  /** Timeout of the attempt in milliseconds (default 30 s). */
  timeoutMs?: number
}

/**
 * One attempt to push an evidence to a routing node (`POST /v1/evidence`
 * with a request proof of this operator). Never throws: the caller decides
 * on retries from `outcome` (chapter 10, TMB-EVD-015).
 *
 * @example
 * ```ts
 * const r = await pushEvidence({ url: 'https://router.example/v1/evidence', evidence: jws,
 *   operatorId: 'vault-b.example', routingNode: 'router.example', signingKey })
 * if (r.outcome === 'retry') scheduleAgain(r.retryAfterMs)
 * ```
 */
export async function pushEvidence(o: PushEvidenceOptions): Promise<EvidencePushResult> {
  const body = JSON.stringify({ evidence: o.evidence })
  let url: URL
  try {
    url = new URL(o.url)
  } catch {
    return { status: 0, outcome: 'retry', error: `no usable evidence endpoint: ${o.url}` }
  }
  const authorization = await createRequestProof({ key: o.signingKey, iss: o.operatorId, aud: o.routingNode, method: 'POST', path: url.pathname + url.search, body })
  let status: number
  let text: string
  let retryAfter: string | string[] | undefined
  try {
    const res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body,
      ...(o.dispatcher ? { dispatcher: o.dispatcher } : {}),
      signal: AbortSignal.timeout(o.timeoutMs ?? 30_000),
    })
    status = res.statusCode
    retryAfter = res.headers['retry-after']
    text = await res.body.text()
  } catch (err) {
    return { status: 0, outcome: 'retry', error: `network: ${(err as Error).name}: ${(err as Error).message}`.slice(0, 500) }
  }
  let json: Record<string, unknown> | undefined
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : undefined
  } catch { /* not JSON */ }
  const code = typeof json?.code === 'string' ? json.code : undefined
  const ra = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter
  const retryAfterMs = ra && /^\d+$/.test(ra.trim()) ? Number(ra.trim()) * 1000 : undefined
  const base = { status, ...(code ? { code } : {}), ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) }
  if (status === 202 || status === 404) return { ...base, outcome: 'done' }
  if (RETRY_STATUSES.has(status) || status >= 500 || json?.retryable === true) return { ...base, outcome: 'retry', error: `${status}${code ? ` ${code}` : ''}` }
  return { ...base, outcome: 'refused', error: `${status}${code ? ` ${code}` : ''}${typeof json?.detail === 'string' ? `: ${json.detail.slice(0, 300)}` : ''}` }
}

/**
 * The evidence endpoint of a routing node from its base URL: `endpoints.evidence`
 * of its discovery document, or `{base}/v1/evidence` when the document cannot be read.
 *
 * @example
 * ```ts
 * const url = await evidenceEndpoint('https://router.example')
 * ```
 */
export async function evidenceEndpoint(baseUrl: string, dispatcher?: Dispatcher): Promise<string> {
  const base = baseUrl.replace(/\/+$/, '')
  try {
    const res = await request(`${base}/.well-known/timbre`, { ...(dispatcher ? { dispatcher } : {}), signal: AbortSignal.timeout(10_000) })
    const doc = (await res.body.json().catch(() => undefined)) as { endpoints?: { evidence?: unknown } } | undefined
    if (res.statusCode === 200 && typeof doc?.endpoints?.evidence === 'string') return doc.endpoints.evidence
  } catch { /* fall back to the default path */ }
  return `${base}/v1/evidence`
}
