/**
 * The sender client: deliver a document into a person's vault and follow it
 * to its final evidence. Every answer that carries a signature is verified
 * before it is returned, so a caller never holds an unchecked stamp.
 */
import type { Dispatcher } from 'undici'
import { TimbreError } from '../errors.js'
import { contentDigest, digestEquals, tokenDigest, type Digest } from '../protocol/digest.js'
import { verifyDirectoryLine, type DirectoryLine } from '../protocol/directory-line.js'
import { sealEnvelope, verifyEnvelope, type DocumentType, type EnvelopeMetadata } from '../protocol/envelope.js'
import { utf8 } from '../internal/bytes.js'
import { toPublicJwk } from '../protocol/keys.js'
import { PlaintextCache, type PlaintextCacheOptions } from './plaintext-cache.js'
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
import { StampsApi } from './stamps.js'
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
  /** Bounds of the plaintexts kept for re-routing (TMB-PORT-029); `{ maxEntries: 0 }` keeps none. */
  plaintextCache?: PlaintextCacheOptions
  /**
   * For senders that can read a document again: its plaintext (byte for byte)
   * by message id, or with the original envelope JWS when this process did not
   * deliver it. Asked when the cache no longer holds the plaintext.
   */
  documentSource?: (messageId: string) => RerouteDocument | Uint8Array | string | undefined | Promise<RerouteDocument | Uint8Array | string | undefined>
  /** Re-route automatically when a delivery turns `rerouting` (default true, TMB-PORT-028). */
  autoReroute?: boolean
}

/** A document to re-route: the same plaintext, and the original envelope when the client has not kept its metadata. */
export interface RerouteDocument {
  /** The plaintext, byte for byte as first delivered. */
  document: Uint8Array | string
  /** The original envelope JWS (its metadata is reused as is). */
  envelope?: string
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
  /** With status `rerouting` and automatic re-routing: the verified re-route receipt. */
  rerouted?: DeliveryReceipt
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
const LINE_EXPIRED = 'the directory line is no longer valid'
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
  #plaintexts: PlaintextCache
  #documentSource: TimbreClientOptions['documentSource']
  #autoReroute: boolean
  // One re-route per RelayRejection: the evidence ids already answered, and the one in flight per message.
  #reroutedFor = new Map<string, Set<string>>()
  #rerouting = new Map<string, Promise<DeliveryReceipt | undefined>>()
  /**
   * Metering: balance, ledger, usage and verified monthly statements.
   *
   * @example
   * ```ts
   * const { available } = await client.stamps.balance()
   * const { statement } = await client.stamps.statement('2026-11')
   * ```
   */
  readonly stamps: StampsApi

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
    this.#plaintexts = new PlaintextCache(options.plaintextCache)
    this.#documentSource = options.documentSource
    this.#autoReroute = options.autoReroute ?? true
    this.stamps = new StampsApi({
      senderId: this.#senderId,
      signedGet: (path) => this.#signed('GET', path),
      routerKeys: () => this.#routerKeys.resolver(),
      nodeId: async () => (await this.discovery()).nodeId,
    })
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
    // A cut-over may fall between the directory's answer and this check: ask again for the line valid now.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#lookupOnce(address)
      } catch (err) {
        if (!(err instanceof TimbreError && err.code === 'unexpected-response' && err.detail === LINE_EXPIRED) || attempt >= 2) throw err
      }
    }
  }

  async #lookupOnce(address: string): Promise<DirectoryLine> {
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
      throw unexpected(LINE_EXPIRED, res.requestId)
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
    // A cut-over between the lookup and the submission check is answered
    // recipient-moved before anything is accepted: look up again and seal for
    // the new operator (same messageId; a fresh key for the new bytes).
    let sealed!: Awaited<ReturnType<typeof sealEnvelope>>
    let res!: JsonResponse<{ messageId?: unknown; status?: unknown; stamp?: unknown }>
    for (let attempt = 0; ; attempt++) {
      const line = await this.lookup(to)
      const recipientKey = line.encryptionKeys?.find((k: PublicJwk) => k.crv === 'X25519' && typeof k.kid === 'string')
      if (!recipientKey) throw unexpected(`the directory line of ${to} has no X25519 key`)
      sealed = await sealEnvelope({
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
      // Sealed once per attempt: every retry sends the same bytes, so the idempotent replay applies.
      const body = JSON.stringify({ envelope: sealed.envelope, content: sealed.content })
      const key = attempt === 0 ? idempotencyKey : `${idempotencyKey.slice(0, 240)}~moved-${attempt}`
      try {
        res = await this.#signed('POST', '/v1/submissions', body, { 'idempotency-key': key })
        break
      } catch (err) {
        if (err instanceof TimbreError && err.code === 'recipient-moved' && attempt < 3) continue
        // Re-sealing yields another envelope (fresh encryption), so a repeat of an earlier deliver() call
        // is refused as a conflict; if that earlier delivery carried the same document, it is this one.
        const conflict =
          err instanceof TimbreError &&
          (err.code === 'message-id-conflict' || (err.code === 'idempotency-key-reused' && input.idempotencyKey === undefined))
        const earlier = conflict ? await this.#earlierReceipt(messageId, to, sealed.metadata.content.digest).catch(() => undefined) : undefined
        if (earlier) return earlier
        throw err
      }
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
    // Kept until final, to re-route the same bytes if the person moves (TMB-PORT-029).
    this.#plaintexts.set(messageId, sealed.metadata, typeof input.document === 'string' ? utf8(input.document) : new Uint8Array(input.document))
    return { messageId, status: answer.status as DeliveryStatus, stamp, stampJws: answer.stamp }
  }

  /**
   * Re-route a delivery whose recipient moved (spec 9.5): look up the current
   * line, re-encrypt the same plaintext for the new operator, sign an envelope
   * with the same `messageId` and metadata (only the content JWE,
   * `contentJweDigest` and `recipientKid` change), submit it to
   * `POST /v1/deliveries/{messageId}/reroute` under a new idempotency key, and
   * return the verified re-route stamp. `waitForDelivery` and `verifyWebhook`
   * call it by themselves (TMB-PORT-028); the plaintext comes from `document`,
   * this client's cache, or `documentSource`.
   *
   * @example
   * ```ts
   * const receipt = await client.reroute(messageId, { document: pdf, envelope: originalEnvelope })
   * receipt.stamp.recipientOperator // the new operator
   * ```
   */
  async reroute(messageId: string, document?: RerouteDocument | Uint8Array | string): Promise<DeliveryReceipt> {
    const id = assertMessageId(messageId)
    const { metadata, plaintext } = await this.#rerouteSource(id, document)
    const line = await this.lookup(metadata.recipient)
    const recipientKey = line.encryptionKeys?.find((k: PublicJwk) => k.crv === 'X25519' && typeof k.kid === 'string')
    if (!recipientKey) throw unexpected(`the directory line of ${metadata.recipient} has no X25519 key`)
    const sealed = await sealEnvelope({
      messageId: id,
      sender: metadata.sender,
      recipient: metadata.recipient,
      documentType: metadata.documentType,
      title: metadata.title,
      ...(metadata.issueDate !== undefined ? { issueDate: metadata.issueDate } : {}),
      ...(metadata.retentionHint !== undefined ? { retentionHint: metadata.retentionHint } : {}),
      ...(metadata.senderReference !== undefined ? { senderReference: metadata.senderReference } : {}),
      mediaType: metadata.content.mediaType,
      document: plaintext,
      senderKey: this.#key,
      recipientKey,
      // Same createdAt: a new message under the same id is what TMB-PORT-030 forbids.
      now: new Date(metadata.createdAt),
    })
    const body = JSON.stringify({ envelope: sealed.envelope, content: sealed.content })
    const res = await this.#signed<{ messageId?: unknown; status?: unknown; stamp?: unknown }>('POST', `/v1/deliveries/${id}/reroute`, body, {
      'idempotency-key': `reroute-${uuidv7()}`,
    })
    const answer = res.body
    if (!isObject(answer) || answer.messageId !== id || typeof answer.stamp !== 'string') throw unexpected('the re-route answer is not a receipt for this message', res.requestId)
    const { nodeId } = await this.discovery()
    const stamp = await verifyStamp(answer.stamp, this.#routerKeys.resolver(), { issuer: nodeId, messageId: id, envelopeDigest: tokenDigest(sealed.envelope) })
    if (stamp.sender !== this.#senderId || stamp.recipient !== metadata.recipient || !digestEquals(stamp.contentDigest, metadata.content.digest)) {
      throw new TimbreError('evidence-invalid', { detail: 'the re-route stamp names another sender, recipient or document', requestId: res.requestId })
    }
    if (stamp.recipientOperator !== undefined && stamp.recipientOperator !== line.operator) {
      throw new TimbreError('evidence-invalid', { detail: 'the re-route stamp names another operator than the directory line', requestId: res.requestId })
    }
    this.#plaintexts.set(id, sealed.metadata, plaintext)
    return { messageId: id, status: typeof answer.status === 'string' ? (answer.status as DeliveryStatus) : 'accepted', stamp, stampJws: answer.stamp }
  }

  async #rerouteSource(messageId: string, given?: RerouteDocument | Uint8Array | string): Promise<{ metadata: EnvelopeMetadata; plaintext: Uint8Array }> {
    const cached = this.#plaintexts.get(messageId)
    const source = given ?? (cached?.document ? undefined : await this.#documentSource?.(messageId))
    const asDoc = (v: RerouteDocument | Uint8Array | string | undefined): RerouteDocument | undefined =>
      v === undefined ? undefined : typeof v === 'string' || v instanceof Uint8Array ? { document: v } : v
    const doc = asDoc(source)
    let metadata = cached?.metadata
    if (doc?.envelope) {
      // Our own signature proves the metadata is what we sent.
      metadata = await verifyEnvelope(doc.envelope, toPublicJwk(this.#key))
      if (metadata.messageId !== messageId) throw new TimbreError('schema-violation', { detail: 'the envelope is for another message' })
    }
    const bytes = doc ? (typeof doc.document === 'string' ? utf8(doc.document) : doc.document) : cached?.document
    if (!metadata || !bytes) {
      throw new TimbreError('recipient-moved', {
        detail: `the plaintext of ${messageId} is no longer held; call reroute(messageId, { document, envelope }) (TMB-PORT-029)`,
      })
    }
    // Byte for byte the same document, or it would be another message (TMB-PORT-030).
    if (bytes.byteLength !== metadata.content.size || !digestEquals(contentDigest(bytes), metadata.content.digest)) {
      throw new TimbreError('content-digest-mismatch', { detail: 'the document differs from the one first delivered' })
    }
    return { metadata, plaintext: bytes }
  }

  // Re-route once per recipient-moved RelayRejection, whoever noticed it first (poll or webhook).
  #autoRerouteFor(messageId: string, rejection: Evidence): Promise<DeliveryReceipt | undefined> {
    const done = this.#reroutedFor.get(messageId) ?? new Set<string>()
    if (done.has(rejection.evidenceId)) return Promise.resolve(undefined)
    const running = this.#rerouting.get(messageId)
    if (running) return running
    const attempt = (async () => {
      try {
        const receipt = await this.reroute(messageId)
        done.add(rejection.evidenceId)
        this.#reroutedFor.set(messageId, done)
        return receipt
      } catch (err) {
        // Someone else (another process) re-routed first: the delivery is no longer rerouting.
        if (err instanceof TimbreError && err.code === 'message-id-conflict') {
          done.add(rejection.evidenceId)
          this.#reroutedFor.set(messageId, done)
          return undefined
        }
        throw err
      } finally {
        this.#rerouting.delete(messageId)
      }
    })()
    this.#rerouting.set(messageId, attempt)
    return attempt
  }

  async #latestMoveRejection(messageId: string): Promise<Evidence | undefined> {
    const chain = await this.evidence(messageId)
    const last = chain.filter((e) => e.evidence.event === 'RelayRejection').at(-1)?.evidence
    return last?.reason?.code === 'recipient-moved' ? last : undefined
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
      if (state.final) {
        this.#plaintexts.delete(messageId)
        this.#reroutedFor.delete(messageId)
        return state
      }
      if (state.status === 'rerouting' && this.#autoReroute) {
        const rejection = await this.#latestMoveRejection(messageId)
        if (rejection) await this.#autoRerouteFor(messageId, rejection)
      }
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
    const status = payload.status as DeliveryStatus
    let rerouted: DeliveryReceipt | undefined
    if (this.#autoReroute && status === 'rerouting' && evidence.event === 'RelayRejection' && evidence.reason?.code === 'recipient-moved') {
      rerouted = await this.#autoRerouteFor(payload.messageId, evidence)
    } else if (FINAL_STATUSES.includes(status)) {
      this.#plaintexts.delete(payload.messageId)
    }
    return {
      id,
      type: 'delivery.status',
      messageId: payload.messageId,
      status,
      evidence,
      evidenceJws: payload.evidence,
      ...(rerouted ? { rerouted } : {}),
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

