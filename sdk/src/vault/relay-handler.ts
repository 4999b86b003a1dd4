/**
 * The vault side of a relay (design notes §6), framework-agnostic: it takes
 * the raw request and returns status, headers and body. Each check runs in
 * the order of the spec, so the same bad input always gets the same code.
 */
import { problemFor, TimbreError, type ProblemDetails } from '../errors.js'
import { fromUtf8 } from '../internal/bytes.js'
import { tokenDigest } from '../protocol/digest.js'
import { openContent, peekEnvelope, verifyEnvelope, type EnvelopeMetadata } from '../protocol/envelope.js'
import { decodeEvidence, signEvidence, verifyStamp, type Evidence } from '../protocol/evidence.js'
import { isOperatorId, UUID_PATTERN, uuidv7 } from '../protocol/identifiers.js'
import { KeySet } from '../protocol/key-set.js'
import { jwkThumbprint, type PrivateJwk, type PublicJwk } from '../protocol/keys.js'
import { verifyRequestProof } from '../protocol/request-auth.js'
import { assertSchema } from '../protocol/schemas.js'
import { MemoryReplayStore, type ReplayStore } from './replay-store.js'
import type { DepositRecord, VaultStorage } from './storage/types.js'

/** A relay request as any HTTP framework can hand it over. */
export interface RelayRequest {
  /** HTTP method (only POST is accepted). */
  method: string
  /** Path and query as received (the proof's `htu`), e.g. `/v1/relay`. */
  path: string
  /** Request headers, lowercase names. */
  headers: Record<string, string | string[] | undefined>
  /** The exact body bytes (the proof signs them). */
  rawBody: Uint8Array
  /** The framework's request id, echoed in problems and `x-request-id`. */
  requestId?: string
}

/** The answer to send back. */
export interface RelayResponse {
  /** 201 deposited, 200 repeat, or the problem's status. */
  status: number
  /** `content-type` and `x-request-id`. */
  headers: Record<string, string>
  /** `{ evidence }` (DepositAcceptance JWS) or a problem, possibly with a DepositRejection `evidence`. */
  body: { evidence: string } | ProblemDetails
}

/** Resolves a calling routing node's public signing key, from the trust list or directory. */
export type NodeKeyResolver = (iss: string, kid: string) => PublicJwk | undefined | Promise<PublicJwk | undefined>

/** A pino-compatible logger; the handler logs ids and codes only, never content. */
export interface RelayLogger {
  /** A relay was deposited or repeated. */
  info(obj: object, msg?: string): void
  /** A relay was refused with a problem. */
  warn(obj: object, msg?: string): void
  /** An unexpected failure (answered as `internal-error`). */
  error(obj: object, msg?: string): void
}

/** Options of {@link createRelayHandler}. */
export interface RelayHandlerOptions {
  /** This vault operator's id: the expected proof `aud` and the evidence issuer. */
  operatorId: string
  /** The operator's current Ed25519 private key, used to sign evidence. */
  signingKey: PrivateJwk
  /** The operator's X25519 private keys (current and still-published ones). */
  encryptionKeys: PrivateJwk[]
  /** Where accounts and deposits live. */
  storage: VaultStorage
  /** Trusted keys of routing nodes, by operator id and kid. */
  resolveNodeKey: NodeKeyResolver
  /** Largest plaintext document accepted, in bytes (default 10 MiB). */
  maxContentBytes?: number
  /** Largest request body accepted, in bytes (default 15 000 000). */
  maxRequestBytes?: number
  /** Where used proof ids are kept (default: in memory, one process). */
  replayStore?: ReplayStore
  /** Clock, for tests. */
  now?: () => Date
  /** Logger for outcomes (ids and codes only). */
  logger?: RelayLogger
}

/** The handler {@link createRelayHandler} returns. */
export type RelayHandler = (req: RelayRequest) => Promise<RelayResponse>

interface RelayBody {
  envelope: string
  content: string
  stamp: string
  senderKey: PublicJwk
  route: string
}

// What is known about the request so far; rejection evidence needs it.
interface Progress {
  authenticated: boolean
  body?: RelayBody
  metadata?: EnvelopeMetadata
}

const header = (req: RelayRequest, name: string): string | undefined => {
  const v = req.headers[name]
  return Array.isArray(v) ? v[0] : v
}

const thumbprintOf = (k: PublicJwk) => jwkThumbprint({ kty: k.kty, crv: k.crv, x: k.x })

/** Default limit of a document's size, in bytes. */
export const DEFAULT_MAX_CONTENT_BYTES = 10 * 1024 * 1024
/** Default limit of a relay request body, in bytes. */
export const DEFAULT_MAX_REQUEST_BYTES = 15_000_000

/**
 * Build the relay handler of a vault operator node.
 *
 * @example
 * ```ts
 * const relay = createRelayHandler({
 *   operatorId: 'vault-b.example', signingKey, encryptionKeys: [encKey],
 *   storage: new MemoryVaultStorage(),
 *   resolveNodeKey: (iss, kid) => trustList.keyOf(iss, kid),
 * })
 * // in any framework:
 * const res = await relay({ method: 'POST', path: req.url, headers: req.headers, rawBody })
 * reply.code(res.status).headers(res.headers).send(res.body)
 * ```
 */
export function createRelayHandler(options: RelayHandlerOptions): RelayHandler {
  if (!isOperatorId(options.operatorId)) throw new TypeError('operatorId must be an operator id')
  if (options.signingKey?.crv !== 'Ed25519' || typeof options.signingKey.d !== 'string') throw new TypeError('signingKey must be a private Ed25519 JWK')
  if (!options.encryptionKeys?.length || options.encryptionKeys.some((k) => k.crv !== 'X25519' || typeof k.d !== 'string')) {
    throw new TypeError('encryptionKeys must hold at least one private X25519 JWK')
  }
  const { operatorId, signingKey, storage, resolveNodeKey } = options
  const encryptionKeys = [...options.encryptionKeys]
  const maxContentBytes = options.maxContentBytes ?? DEFAULT_MAX_CONTENT_BYTES
  const maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES
  const replay = options.replayStore ?? new MemoryReplayStore()
  const now = options.now ?? (() => new Date())
  const log = options.logger

  const fail = (code: ConstructorParameters<typeof TimbreError>[0], detail?: string, extra?: Record<string, unknown>): never => {
    throw new TimbreError(code, { ...(detail ? { detail } : {}), ...(extra ? { extra } : {}) })
  }

  // The node key, if the resolver knows it and it was valid at `at` (stamps are checked at their time).
  const nodeKey = async (iss: string, kid: string, at?: Date) => {
    const key = await resolveNodeKey(iss, kid)
    return key ? new KeySet([key]).get(kid, at) : undefined
  }

  async function handle(req: RelayRequest, progress: Progress): Promise<RelayResponse> {
    if (req.method.toUpperCase() !== 'POST') fail('method-not-allowed')
    const mediaType = header(req, 'content-type')?.split(';')[0]?.trim().toLowerCase()
    if (mediaType !== 'application/json') fail('unsupported-media-type', 'the relay body must be application/json')
    if (req.rawBody.byteLength > maxRequestBytes) fail('body-too-large')

    // 1. JSON, then shape.
    let parsed: unknown
    try {
      parsed = JSON.parse(fromUtf8(req.rawBody))
    } catch {
      return fail('malformed-json')
    }
    const body = assertSchema<RelayBody>('relay-request.json', parsed)

    // 2. The calling node: proof, then single use.
    const claims = await verifyRequestProof(header(req, 'authorization'), {
      aud: operatorId,
      method: req.method,
      path: req.path,
      body: req.rawBody,
      resolveKey: async (iss, kid) => (await resolveNodeKey(iss, kid)) ?? fail('node-untrusted', `${iss} is not a trusted node`),
    })
    if (!(await replay.claim(claims.jti, claims.exp))) fail('request-replayed')
    progress.authenticated = true
    progress.body = body

    // 3. The stamp: issued by the caller, for this envelope and this sender key.
    const envelopeDigest = tokenDigest(body.envelope)
    let stamp: Evidence
    try {
      stamp = await verifyStamp(body.stamp, (kid, at) => nodeKey(claims.iss, kid, at), { issuer: claims.iss, envelopeDigest })
    } catch (err) {
      return fail('stamp-invalid', err instanceof TimbreError ? err.detail : 'the stamp does not verify')
    }
    const senderKid = await thumbprintOf(body.senderKey)
    if (stamp.senderKid !== senderKid) fail('stamp-invalid', 'the stamp names another sender key')

    // 4. The envelope, signed by that sender key and bound to the content.
    let metadata: EnvelopeMetadata
    try {
      metadata = await verifyEnvelope(body.envelope, { ...body.senderKey, kid: senderKid }, body.content)
    } catch (err) {
      if (err instanceof TimbreError && err.code === 'content-digest-mismatch') throw err
      return fail('envelope-invalid', err instanceof TimbreError ? err.detail : 'the envelope does not verify')
    }
    progress.metadata = metadata
    if (stamp.messageId !== metadata.messageId || stamp.sender !== metadata.sender || stamp.recipient !== metadata.recipient) {
      fail('stamp-invalid', 'the stamp is for another message')
    }
    if (!encryptionKeys.some((k) => k.kid === metadata.recipientKid)) {
      fail('content-undecryptable', 'the content is encrypted for a key this operator does not hold')
    }

    // 5. The recipient is hosted here.
    const account = await storage.account(metadata.recipient)
    if (!account) fail('recipient-unknown', 'the vault address is not hosted by this operator')
    if (account!.status === 'moved') fail('recipient-moved', 'the vault address moved to another operator', { operator: account!.operator })

    // 6. A repeat gets the original evidence, never a second deposit.
    const existing = await storage.findDeposit(metadata.sender, metadata.messageId)
    if (existing) return repeat(existing, body)

    // 7. Decrypt and check the document against the signed digest and the limit.
    if (metadata.content.size > maxContentBytes) fail('content-too-large', `the limit is ${maxContentBytes} bytes`)
    const document = await openContent(body.content, metadata, (kid) => encryptionKeys.find((k) => k.kid === kid))
    if (document.byteLength > maxContentBytes) fail('content-too-large', `the limit is ${maxContentBytes} bytes`)

    // 8. Sign, then store; the storage decides who was first.
    const time = now().toISOString()
    const { jws } = await signEvidence(
      {
        event: 'DepositAcceptance',
        time,
        issuer: operatorId,
        messageId: metadata.messageId,
        sender: metadata.sender,
        recipient: metadata.recipient,
        contentDigest: metadata.content.digest,
        envelopeDigest,
        senderKid,
        recipientOperator: operatorId,
        previousEvidenceId: stamp.evidenceId,
      },
      signingKey,
    )
    const record: DepositRecord = {
      address: metadata.recipient,
      sender: metadata.sender,
      messageId: metadata.messageId,
      metadata,
      envelope: body.envelope,
      senderKey: { ...body.senderKey, kid: senderKid },
      stamp: body.stamp,
      evidence: jws,
      depositedAt: time,
      size: document.byteLength,
      digest: metadata.content.digest,
    }
    const result = await storage.deposit(record, document)
    if (!result.inserted) return repeat(result.record, body)
    log?.info({ messageId: metadata.messageId, sender: metadata.sender, recipient: metadata.recipient, size: record.size }, 'relay deposited')
    return { status: 201, headers: { 'content-type': 'application/json' }, body: { evidence: jws } }
  }

  function repeat(existing: DepositRecord, body: RelayBody): RelayResponse {
    // Same (sender, messageId) with another envelope is a different document, not a repeat.
    if (existing.envelope !== body.envelope) fail('message-id-conflict', 'the message id was deposited with another envelope')
    log?.info({ messageId: existing.messageId, sender: existing.sender }, 'relay repeated, original evidence returned')
    return { status: 200, headers: { 'content-type': 'application/json' }, body: { evidence: existing.evidence } }
  }

  // Signed DepositRejection for an authenticated caller, when the message can be named.
  async function rejectionEvidence(err: TimbreError, progress: Progress): Promise<string | undefined> {
    if (!progress.authenticated || !progress.body || err.retryable) return undefined
    const body = progress.body
    const m = progress.metadata ?? peekEnvelope(body.envelope)
    if (
      !m ||
      typeof m.messageId !== 'string' ||
      !UUID_PATTERN.test(m.messageId) ||
      typeof m.sender !== 'string' ||
      typeof m.recipient !== 'string' ||
      m.content?.digest?.alg !== 'sha-256' ||
      typeof m.content.digest.value !== 'string'
    ) {
      return undefined
    }
    let previousEvidenceId: string | undefined
    try {
      previousEvidenceId = decodeEvidence(body.stamp).evidenceId
    } catch {
      previousEvidenceId = undefined
    }
    let senderKid: string | undefined
    try {
      senderKid = await thumbprintOf(body.senderKey)
    } catch {
      senderKid = undefined
    }
    const { jws } = await signEvidence(
      {
        event: 'DepositRejection',
        time: now().toISOString(),
        issuer: operatorId,
        messageId: m.messageId,
        sender: m.sender,
        recipient: m.recipient,
        contentDigest: { alg: 'sha-256', value: m.content.digest.value },
        envelopeDigest: tokenDigest(body.envelope),
        ...(senderKid ? { senderKid } : {}),
        recipientOperator: operatorId,
        reason: { code: err.code, ...(err.detail ? { detail: err.detail } : {}) },
        ...(typeof previousEvidenceId === 'string' && UUID_PATTERN.test(previousEvidenceId) ? { previousEvidenceId } : {}),
      },
      signingKey,
    )
    return jws
  }

  return async function relayHandler(req: RelayRequest): Promise<RelayResponse> {
    const requestId = req.requestId ?? header(req, 'x-request-id') ?? uuidv7()
    const progress: Progress = { authenticated: false }
    try {
      const res = await handle(req, progress)
      return { ...res, headers: { ...res.headers, 'x-request-id': requestId } }
    } catch (caught) {
      const known = caught instanceof TimbreError
      const err = known ? caught : new TimbreError('internal-error', { cause: caught })
      if (!known) log?.error({ requestId, err: (caught as Error)?.name }, 'relay failed')
      const evidence = await rejectionEvidence(err, progress).catch(() => undefined)
      const problem = problemFor(err.code, {
        detail: known ? err.detail : undefined,
        requestId,
        extra: { ...err.extra, ...(evidence ? { evidence } : {}) },
      })
      log?.warn({ requestId, code: err.code, messageId: progress.metadata?.messageId }, 'relay rejected')
      return { status: problem.status, headers: { 'content-type': 'application/problem+json', 'x-request-id': requestId }, body: problem }
    }
  }
}
