/**
 * The sender client: deliver a document into a person's vault and follow it
 * to its final evidence. Every answer that carries a signature is verified
 * before it is returned, so a caller never holds an unchecked stamp.
 */
import type { Dispatcher } from 'undici'
import { TimbreError } from '../errors.js'
import { digestEquals, tokenDigest, type Digest } from '../protocol/digest.js'
import { verifyDirectoryLine, type DirectoryLine } from '../protocol/directory-line.js'
import { sealEnvelope, type DocumentType } from '../protocol/envelope.js'
import {
  decodeEvidence,
  FINAL_STATUSES,
  finalStatusOf,
  verifyEvidence,
  verifyStamp,
  type DeliveryStatus,
  type Evidence,
  type EvidenceExpectations,
  type TrustedKeys,
} from '../protocol/evidence.js'
import { isOperatorId, isOrganisationId, UUID_PATTERN, uuidv7 } from '../protocol/identifiers.js'
import type { Jwks, PrivateJwk, PublicJwk } from '../protocol/keys.js'
import { createRequestProof } from '../protocol/request-auth.js'
import { assertVaultAddress } from '../protocol/vault-address.js'
import { verifyWebhookSignature } from '../protocol/webhook.js'
import { JsonHttp, type JsonRequest, type JsonResponse } from './http.js'
import { RemoteKeys } from './remote-keys.js'
import { DEFAULT_RETRY, sleep, withRetry, type RetryOptions } from './retry.js'

/** Options of a {@link TimbreClient}. */
export interface TimbreClientOptions {
  /** Base URL of the sender's routing node, e.g. `https://router.example`. */
  baseUrl: string
  /** The sender's organisation id (`icd:value`), registered at the routing node. */
  senderId: string
  /** The sender's private Ed25519 JWK; its public part is registered at the routing node. */
  key: PrivateJwk
  /** An undici dispatcher (for proxies, pools, or tests); the global dispatcher when absent. */
  dispatcher?: Dispatcher
  /** Retry policy for retryable errors; defaults to {@link DEFAULT_RETRY}. */
  retry?: Partial<RetryOptions>
  /** Per-request timeout in milliseconds (default 30 000). */
  timeoutMs?: number
  /** Base URL of the directory, overriding the discovery document's `endpoints.directory`. */
  directoryUrl?: string
}

/** What {@link TimbreClient.deliver} sends. */
export interface DeliverInput {
  /** The recipient's vault address, in any accepted input form. */
  to: string
  /** The document bytes (a string is sent as UTF-8). */
  document: Uint8Array | string
  /** The registered document type. */
  type: DocumentType
  /** Title shown to the recipient. */
  title: string
  /** Media type of the document (default `application/octet-stream`). */
  mediaType?: string
  /** Issue date, `YYYY-MM-DD`. */
  issueDate?: string
  /** How long the recipient should keep the document (ISO 8601 duration, e.g. `P50Y`). */
  retentionHint?: string
  /** The sender's own reference. */
  senderReference?: string
  /** The message id (a UUID); a new UUID v7 when absent. */
  messageId?: string
  /** The idempotency key; the message id when absent, so retrying the same delivery is harmless. */
  idempotencyKey?: string
}

/** The verified answer of {@link TimbreClient.deliver}. */
export interface DeliveryReceipt {
  /** The message id (chosen or generated). */
  messageId: string
  /** The delivery status when the node answered (usually `accepted`). */
  status: DeliveryStatus
  /** The stamp (SubmissionAcceptance evidence), verified. */
  stamp: Evidence
  /** The stamp as its compact JWS, to archive. */
  stampJws: string
}

/** Where a delivery stands (`GET /v1/deliveries/{messageId}`). */
export interface DeliveryState {
  /** The message id. */
  messageId: string
  /** The current status. */
  status: DeliveryStatus
  /** True for `delivered`, `rejected` and `failed`. */
  final: boolean
  /** When the status last changed (RFC 3339). */
  updatedAt: string
  /** The sender's organisation id. */
  sender?: string
  /** The recipient vault address. */
  recipient?: string
  /** The vault operator the delivery was routed to, once known. */
  recipientOperator?: string
  /** When the routing node stamped the submission. */
  acceptedAt?: string
  /** Relay attempts made so far. */
  attempts?: number
  /** When the next relay attempt is planned. */
  nextAttemptAt?: string
  /** End of the delivery window. */
  deadline?: string
  /** Why the delivery was rejected or failed (`code` from the error catalogue). */
  reason?: { code: string; detail?: string }
  /** Number of evidences recorded. */
  evidenceCount?: number
}

/** One evidence, verified, with its JWS. */
export interface VerifiedEvidence {
  /** The decoded payload, after verification. */
  evidence: Evidence
  /** The compact JWS, to archive and re-verify offline. */
  jws: string
}

/** A verified webhook call from the routing node. */
export interface WebhookEvent {
  /** The `webhook-id` header (the evidence id); use it to drop duplicates. */
  id: string
  /** The event type; v1 sends only `delivery.status`. */
  type: 'delivery.status'
  /** The message the event is about. */
  messageId: string
  /** The new status. */
  status: DeliveryStatus
  /** The evidence that caused the change, verified. */
  evidence: Evidence
  /** The evidence as its compact JWS. */
  evidenceJws: string
}

/** Options of {@link TimbreClient.waitForDelivery}. */
export interface WaitForDeliveryOptions {
  /** Give up after this many milliseconds with a `timeout` error (default 60 000). */
  timeoutMs?: number
  /** Time between two status polls in milliseconds (default 1 000). */
  intervalMs?: number
  /** Stop waiting when aborted. */
  signal?: AbortSignal
}

/** The discovery document of a node, as far as the client reads it. */
export interface DiscoveryDocument {
  /** Always `timbre`. */
  protocol: 'timbre'
  /** Protocol major versions served. */
  versions: string[]
  /** The node's operator id: the `aud` of request proofs and the issuer of its evidence. */
  nodeId: string
  /** Roles the node plays. */
  roles: string[]
  /** Absolute URLs of the node's APIs; `directory` is the directory API root. */
  endpoints: { submissions?: string; relay?: string; directory?: string; jwks: string; [name: string]: unknown }
  /** Size limits the node enforces. */
  limits?: { maxContentBytes: number; maxRequestBytes: number }
  /** Members a client does not know are kept and ignored. */
  [member: string]: unknown
}

/** An operator record of the directory (`GET /v1/directory/operators/{id}`). */
export interface OperatorRecord {
  /** The operator id. */
  id: string
  /** Base URL of the operator's node. */
  baseUrl: string
  /** Where routing nodes relay documents. */
  relayEndpoint?: string
  /** The operator's signature and encryption public keys, current and retired. */
  jwks: Jwks
  /** Roles the operator plays. */
  roles?: string[]
  /** Human-readable name. */
  name?: string
  /** Standing in the network. */
  status?: 'active' | 'suspended' | 'revoked'
}

const trimSlash = (url: string) => url.replace(/\/+$/, '')
const unexpected = (detail: string, requestId?: string) => new TimbreError('unexpected-response', { detail, requestId })
const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v)

function assertMessageId(messageId: string): string {
  if (typeof messageId !== 'string' || !UUID_PATTERN.test(messageId)) {
    throw new TimbreError('schema-violation', { detail: 'messageId must be a lowercase UUID' })
  }
  return messageId
}

/**
 * The sender client of a routing node.
 *
 * @example
 * ```ts
 * import { TimbreClient } from '@timbre/sdk/client'
 *
 * const client = new TimbreClient({ baseUrl: 'https://router.example', senderId: '0009:12345678900011', key })
 * const receipt = await client.deliver({
 *   to: 'K7QM-3X9R-2VHD-8P4N', document: pdfBytes, mediaType: 'application/pdf',
 *   type: 'payslip', title: 'Payslip November 2026',
 * })
 * const final = await client.waitForDelivery(receipt.messageId)
 * const chain = await client.evidence(receipt.messageId) // every evidence, verified
 * ```
 */
export class TimbreClient {
  #baseUrl: string
  #senderId: string
  #key: PrivateJwk
  #http: JsonHttp
  #retry: RetryOptions
  #directoryOverride: string | undefined
  #discovery: Promise<DiscoveryDocument> | undefined
  #routerKeys: RemoteKeys
  #directoryKeys: RemoteKeys | undefined
  #operatorKeys = new Map<string, RemoteKeys>()

  constructor(options: TimbreClientOptions) {
    if (!options || typeof options.baseUrl !== 'string') throw new TypeError('baseUrl is required')
    if (!isOrganisationId(options.senderId)) throw new TimbreError('schema-violation', { detail: 'senderId must be an ISO 6523 icd:value id' })
    if (!options.key || options.key.crv !== 'Ed25519' || typeof options.key.d !== 'string') {
      throw new TimbreError('schema-violation', { detail: 'key must be a private Ed25519 JWK' })
    }
    this.#baseUrl = trimSlash(new URL(options.baseUrl).toString())
    this.#senderId = options.senderId
    this.#key = options.key
    this.#http = new JsonHttp({ dispatcher: options.dispatcher, timeoutMs: options.timeoutMs })
    this.#retry = { ...DEFAULT_RETRY, ...options.retry }
    this.#directoryOverride = options.directoryUrl ? trimSlash(options.directoryUrl) : undefined
    this.#routerKeys = new RemoteKeys(() => this.#fetchJwks(`${this.#baseUrl}/.well-known/jwks.json`))
  }

  /** The sender id this client signs as. */
  get senderId(): string {
    return this.#senderId
  }

  /**
   * Verify an evidence offline against keys the caller trusts (no network).
   *
   * @example
   * ```ts
   * const ev = await TimbreClient.verifyEvidence(archivedJws, routerJwks, { messageId })
   * ```
   */
  static verifyEvidence(jws: string, keys: TrustedKeys, expect?: EvidenceExpectations): Promise<Evidence> {
    return verifyEvidence(jws, keys, expect)
  }

  /**
   * The routing node's discovery document (fetched once, then cached).
   *
   * @example
   * ```ts
   * const { nodeId, limits } = await client.discovery()
   * ```
   */
  discovery(): Promise<DiscoveryDocument> {
    if (!this.#discovery) {
      const loading = this.#get<DiscoveryDocument>(`${this.#baseUrl}/.well-known/timbre`).then(({ body, requestId }) => {
        if (!isObject(body) || body.protocol !== 'timbre' || typeof body.nodeId !== 'string' || !isOperatorId(body.nodeId)) {
          throw unexpected('the discovery document is not a Timbre discovery document', requestId)
        }
        return body
      })
      this.#discovery = loading
      loading.catch(() => {
        if (this.#discovery === loading) this.#discovery = undefined
      })
    }
    return this.#discovery
  }

  /**
   * Look up a vault address in the directory and verify the signed line.
   *
   * @example
   * ```ts
   * const line = await client.lookup('K7QM3X9R2VHD8P4N')
   * line.operator // 'vault-b.example'
   * ```
   */
  async lookup(address: string): Promise<DirectoryLine> {
    const to = assertVaultAddress(address)
    const base = await this.#directoryBase()
    let res: JsonResponse<{ line?: unknown }>
    try {
      res = await this.#get(`${base}/v1/directory/addresses/${to}`)
    } catch (err) {
      if (err instanceof TimbreError && err.code === 'not-found') {
        throw new TimbreError('recipient-unknown', { detail: `no directory line for ${to}`, requestId: err.requestId, cause: err })
      }
      throw err
    }
    if (!isObject(res.body) || typeof res.body.line !== 'string') throw unexpected('the directory answer has no line', res.requestId)
    let line: DirectoryLine
    try {
      line = await verifyDirectoryLine(res.body.line, (await this.#directoryKeySource()).resolver())
    } catch (cause) {
      throw new TimbreError('unexpected-response', { detail: 'the directory line signature does not verify', requestId: res.requestId, cause })
    }
    if (line.address !== to) throw unexpected('the directory answered for another address', res.requestId)
    if (line.validTo !== null && line.validTo !== undefined && Date.parse(line.validTo) <= Date.now()) {
      throw unexpected('the directory line is no longer valid', res.requestId)
    }
    return line
  }

  /**
   * Seal a document for its recipient, submit it, and return the verified
   * stamp. The address is checked locally first: a typo throws
   * `invalid-vault-address` before any network call.
   *
   * Retries within one call resend the same bytes under the same
   * `Idempotency-Key`. Calling again with the same `messageId` (after a crash,
   * say) returns the original receipt when the node already holds that
   * message for the same recipient and the same document bytes.
   *
   * @example
   * ```ts
   * const { messageId, stamp } = await client.deliver({
   *   to: 'K7QM3X9R2VHD8P4N', document: pdf, mediaType: 'application/pdf',
   *   type: 'payslip', title: 'Payslip November 2026', senderReference: 'PAY-2026-11-0042',
   * })
   * ```
   */
  async deliver(input: DeliverInput): Promise<DeliveryReceipt> {
    const to = assertVaultAddress(input.to)
    const messageId = assertMessageId(input.messageId ?? uuidv7())
    const idempotencyKey = input.idempotencyKey ?? messageId
    if (!/^[\x21-\x7e]{1,255}$/.test(idempotencyKey)) {
      throw new TimbreError('schema-violation', { detail: 'idempotencyKey must be 1 to 255 visible ASCII characters' })
    }
    const line = await this.lookup(to)
    const recipientKey = line.encryptionKeys?.find((k: PublicJwk) => k.crv === 'X25519' && typeof k.kid === 'string')
    if (!recipientKey) throw unexpected(`the directory line of ${to} has no X25519 key`)
    const sealed = await sealEnvelope({
      messageId,
      sender: this.#senderId,
      recipient: to,
      documentType: input.type,
      title: input.title,
      ...(input.issueDate ? { issueDate: input.issueDate } : {}),
      ...(input.retentionHint ? { retentionHint: input.retentionHint } : {}),
      ...(input.senderReference ? { senderReference: input.senderReference } : {}),
      mediaType: input.mediaType ?? 'application/octet-stream',
      document: input.document,
      senderKey: this.#key,
      recipientKey,
    })
    // Sealed once: every retry sends the same bytes, so the idempotent replay applies.
    const body = JSON.stringify({ envelope: sealed.envelope, content: sealed.content })
    let res: JsonResponse<{ messageId?: unknown; status?: unknown; stamp?: unknown }>
    try {
      res = await this.#signed('POST', '/v1/submissions', body, { 'idempotency-key': idempotencyKey })
    } catch (err) {
      // Re-sealing yields another envelope (fresh encryption), so a repeat of an earlier deliver() call
      // is refused as a conflict; if that earlier delivery carried the same document, it is this one.
      const conflict =
        err instanceof TimbreError &&
        (err.code === 'message-id-conflict' || (err.code === 'idempotency-key-reused' && input.idempotencyKey === undefined))
      const earlier = conflict ? await this.#earlierReceipt(messageId, to, sealed.metadata.content.digest).catch(() => undefined) : undefined
      if (earlier) return earlier
      throw err
    }
    const answer = res.body
    if (!isObject(answer) || answer.messageId !== messageId || typeof answer.stamp !== 'string' || typeof answer.status !== 'string') {
      throw unexpected('the submission answer is not a receipt for this message', res.requestId)
    }
    const { nodeId } = await this.discovery()
    const stamp = await verifyStamp(answer.stamp, this.#routerKeys.resolver(), {
      issuer: nodeId,
      messageId,
      envelopeDigest: tokenDigest(sealed.envelope),
    })
    if (stamp.sender !== this.#senderId || stamp.recipient !== to) {
      throw new TimbreError('evidence-invalid', { detail: 'the stamp names another sender or recipient', requestId: res.requestId })
    }
    return { messageId, status: answer.status as DeliveryStatus, stamp, stampJws: answer.stamp }
  }

  async #earlierReceipt(messageId: string, to: string, digest: Digest): Promise<DeliveryReceipt | undefined> {
    const { nodeId } = await this.discovery()
    const stamp = (await this.evidence(messageId)).find((e) => e.evidence.event === 'SubmissionAcceptance' && e.evidence.issuer === nodeId)
    if (!stamp || stamp.evidence.sender !== this.#senderId || stamp.evidence.recipient !== to || !digestEquals(stamp.evidence.contentDigest, digest)) {
      return undefined
    }
    const { status } = await this.status(messageId)
    return { messageId, status, stamp: stamp.evidence, stampJws: stamp.jws }
  }

  /**
   * Where a delivery stands.
   *
   * @example
   * ```ts
   * const { status, final } = await client.status(messageId)
   * ```
   */
  async status(messageId: string): Promise<DeliveryState> {
    const id = assertMessageId(messageId)
    const res = await this.#signed<DeliveryState>('GET', `/v1/deliveries/${id}`)
    const s = res.body
    if (!isObject(s) || s.messageId !== id || typeof s.status !== 'string') throw unexpected('the status answer is malformed', res.requestId)
    return { ...s, final: typeof s.final === 'boolean' ? s.final : FINAL_STATUSES.includes(s.status) }
  }

  /**
   * Every evidence of a delivery, oldest first, each verified: the routing
   * node's with its JWKS, a vault operator's with the keys the directory
   * publishes for it.
   *
   * @example
   * ```ts
   * const chain = await client.evidence(messageId)
   * chain.at(-1)?.evidence.event // 'DepositAcceptance'
   * ```
   */
  async evidence(messageId: string): Promise<VerifiedEvidence[]> {
    const id = assertMessageId(messageId)
    const res = await this.#signed<{ evidence?: unknown }>('GET', `/v1/deliveries/${id}/evidence`)
    const list = isObject(res.body) ? res.body.evidence : undefined
    if (!Array.isArray(list) || list.some((e) => typeof e !== 'string')) throw unexpected('the evidence answer is malformed', res.requestId)
    const out: VerifiedEvidence[] = []
    for (const jws of list as string[]) out.push({ evidence: await this.#verifyFromNetwork(jws, { messageId: id }), jws })
    return out
  }

  /**
   * Poll a delivery until it is final (`delivered`, `rejected` or `failed`).
   * Throws `timeout` when it is not final in time.
   *
   * @example
   * ```ts
   * const state = await client.waitForDelivery(messageId, { timeoutMs: 120_000 })
   * if (state.status !== 'delivered') console.warn(state.reason)
   * ```
   */
  async waitForDelivery(messageId: string, options: WaitForDeliveryOptions = {}): Promise<DeliveryState> {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000)
    const interval = Math.max(10, options.intervalMs ?? 1_000)
    for (;;) {
      options.signal?.throwIfAborted()
      const state = await this.status(messageId)
      if (state.final) return state
      const left = deadline - Date.now()
      if (left <= 0) throw new TimbreError('timeout', { detail: `delivery ${messageId} is still ${state.status}` })
      await sleep(Math.min(interval, left), options.signal)
    }
  }

  /**
   * Verify a webhook call from the routing node (Standard Webhooks `v1a`,
   * Ed25519) and the evidence it carries. Pass the exact body bytes.
   *
   * @example
   * ```ts
   * app.post('/timbre/webhook', async (req, reply) => {
   *   const event = await client.verifyWebhook({ headers: req.headers, body: req.rawBody })
   *   await markDelivered(event.messageId, event.status)
   *   reply.code(204).send()
   * })
   * ```
   */
  async verifyWebhook(request: { headers: Record<string, string | string[] | undefined>; body: Uint8Array | string }): Promise<WebhookEvent> {
    const check = async () => verifyWebhookSignature({ headers: request.headers, body: request.body, keys: (await this.#routerKeys.get()).list() })
    let id: string
    try {
      ;({ id } = await check())
    } catch (err) {
      // The node may have rotated its key since the JWKS was cached.
      if (!(err instanceof TimbreError) || err.code !== 'auth-invalid' || !(await this.#routerKeys.refresh())) throw err
      ;({ id } = await check())
    }
    let payload: unknown
    try {
      payload = JSON.parse(typeof request.body === 'string' ? request.body : Buffer.from(request.body).toString('utf8'))
    } catch {
      throw new TimbreError('malformed-json', { detail: 'the webhook body is not JSON' })
    }
    if (
      !isObject(payload) ||
      payload.type !== 'delivery.status' ||
      typeof payload.messageId !== 'string' ||
      typeof payload.status !== 'string' ||
      typeof payload.evidence !== 'string'
    ) {
      throw new TimbreError('schema-violation', { detail: 'the webhook body is not a delivery.status payload' })
    }
    const evidence = await this.#verifyFromNetwork(payload.evidence, { messageId: payload.messageId })
    const implied = finalStatusOf(evidence.event, evidence.reason?.code)
    if (implied && implied !== payload.status) {
      throw new TimbreError('evidence-invalid', { detail: `the webhook says ${payload.status} but the evidence is ${evidence.event}` })
    }
    return {
      id,
      type: 'delivery.status',
      messageId: payload.messageId,
      status: payload.status as DeliveryStatus,
      evidence,
      evidenceJws: payload.evidence,
    }
  }

  // Router evidence with the router JWKS; vault evidence with its operator's published keys.
  async #verifyFromNetwork(jws: string, expect: EvidenceExpectations): Promise<Evidence> {
    const issuer = decodeEvidence(jws).issuer
    const { nodeId } = await this.discovery()
    if (issuer === nodeId) return verifyEvidence(jws, this.#routerKeys.resolver(), { ...expect, issuer })
    if (typeof issuer !== 'string' || !isOperatorId(issuer)) throw new TimbreError('evidence-invalid', { detail: 'the evidence issuer is not an operator id' })
    return verifyEvidence(jws, this.#operatorKeySource(issuer).resolver(), { ...expect, issuer })
  }

  #operatorKeySource(operatorId: string): RemoteKeys {
    let source = this.#operatorKeys.get(operatorId)
    if (!source) {
      source = new RemoteKeys(async () => {
        const base = await this.#directoryBase()
        const { body, requestId } = await this.#get<OperatorRecord>(`${base}/v1/directory/operators/${encodeURIComponent(operatorId)}`)
        if (!isObject(body) || body.id !== operatorId || !isObject(body.jwks) || !Array.isArray(body.jwks.keys)) {
          throw unexpected(`the operator record of ${operatorId} is malformed`, requestId)
        }
        return body.jwks.keys
      })
      this.#operatorKeys.set(operatorId, source)
    }
    return source
  }

  async #directoryBase(): Promise<string> {
    if (this.#directoryOverride) return this.#directoryOverride
    const endpoint = (await this.discovery()).endpoints?.directory
    // The discovery document names the directory API root (…/v1/directory); requests append their full path.
    return typeof endpoint === 'string' && endpoint ? trimSlash(endpoint).replace(/\/v1\/directory$/, '') : this.#baseUrl
  }

  async #directoryKeySource(): Promise<RemoteKeys> {
    const base = await this.#directoryBase()
    if (base === this.#baseUrl) return this.#routerKeys
    this.#directoryKeys ??= new RemoteKeys(() => this.#fetchJwks(`${base}/.well-known/jwks.json`))
    return this.#directoryKeys
  }

  async #fetchJwks(url: string): Promise<PublicJwk[]> {
    const { body, requestId } = await this.#get<Jwks>(url)
    if (!isObject(body) || !Array.isArray(body.keys)) throw unexpected(`${url} is not a JWKS`, requestId)
    return body.keys
  }

  #get<T>(url: string): Promise<JsonResponse<T>> {
    return this.#send<T>({ method: 'GET', url })
  }

  #send<T>(req: JsonRequest): Promise<JsonResponse<T>> {
    return withRetry(() => this.#http.send<T>(req), this.#retry)
  }

  // A fresh proof per attempt: its jti is single use, so a retry must not reuse it.
  async #signed<T>(method: 'GET' | 'POST', path: string, body?: string, headers: Record<string, string> = {}): Promise<JsonResponse<T>> {
    const { nodeId } = await this.discovery()
    const url = `${this.#baseUrl}${path}`
    const htu = new URL(url).pathname + new URL(url).search
    return withRetry(async () => {
      const authorization = await createRequestProof({ key: this.#key, iss: this.#senderId, aud: nodeId, method, path: htu, body: body ?? '' })
      return this.#http.send<T>({ method, url, headers: { ...headers, authorization }, ...(body !== undefined ? { body } : {}) })
    }, this.#retry)
  }
}

