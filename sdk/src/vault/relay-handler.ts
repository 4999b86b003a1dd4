/**
 * The vault side of a relay (design notes §6), framework-agnostic: it takes
 * the raw request and returns status, headers and body. Each check runs in
 * the order of the spec, so the same bad input always gets the same code.
 */
import { problemFor, TimbreError, type ProblemDetails } from '../errors.js'
import { fromUtf8 } from '../internal/bytes.js'
import { peekHeader, verifyJws } from '../internal/jws.js'
import { digestEquals, tokenDigest } from '../protocol/digest.js'
import { peekDirectoryLine, verifyDirectoryLine, type DirectoryLine } from '../protocol/directory-line.js'
import { CONTENT_TYP, ENVELOPE_TYP, openContent, verifyEnvelope, type EnvelopeMetadata } from '../protocol/envelope.js'
import { decodeEvidence, signEvidence, verifyStamp, type Evidence } from '../protocol/evidence.js'
import { isOperatorId, UUID_PATTERN, uuidv7 } from '../protocol/identifiers.js'
import { KeySet } from '../protocol/key-set.js'
import { CONTENT_ENCRYPTION_ALG, jwkThumbprint, KEY_AGREEMENT_ALG, type PrivateJwk, type PublicJwk } from '../protocol/keys.js'
import { verifyRequestProof } from '../protocol/request-auth.js'
import { assertSchema } from '../protocol/schemas.js'
import { assertVaultAddress } from '../protocol/vault-address.js'
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

/** Resolves a public key of the directory that signed a route. */
export type DirectoryKeyResolver = (kid: string, issuer: string) => PublicJwk | undefined | Promise<PublicJwk | undefined>

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
  /**
   * Keys of the directory that signs routes (directory lines), by kid; gets the
   * line's `issuer` when it names one. Default: `resolveNodeKey(issuer ?? proof iss, kid)`,
   * right when the directory is run by a trust-listed node.
   */
  resolveDirectoryKey?: DirectoryKeyResolver
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
  const directoryKey = async (kid: string, issuer: string) =>
    options.resolveDirectoryKey ? options.resolveDirectoryKey(kid, issuer) : resolveNodeKey(issuer, kid)

  async function handle(req: RelayRequest, progress: Progress): Promise<RelayResponse> {
    // Check numbers are those of spec chapter 6.2; the first failure answers.
    // 1. Size and media type.
    if (req.method.toUpperCase() !== 'POST') fail('method-not-allowed')
    if (req.rawBody.byteLength > maxRequestBytes) fail('body-too-large')
    const mediaType = header(req, 'content-type')?.split(';')[0]?.trim().toLowerCase()
    if (mediaType !== 'application/json') fail('unsupported-media-type', 'the relay body must be application/json')

    // 2. The calling node: proof over the exact bytes, then single use.
    const claims = await verifyRequestProof(header(req, 'authorization'), {
      aud: operatorId,
      method: req.method,
      path: req.path,
      body: req.rawBody,
      resolveKey: async (iss, kid) => (await resolveNodeKey(iss, kid)) ?? fail('node-untrusted', `${iss} is not a trusted node`),
    })
    if (!(await replay.claim(claims.jti, claims.exp))) fail('request-replayed')
    progress.authenticated = true

    // 3. JSON, then shape.
    let parsed: unknown
    try {
      parsed = JSON.parse(fromUtf8(req.rawBody))
    } catch {
      return fail('malformed-json')
    }
    const body = assertSchema<RelayBody>('relay-request.json', parsed)
    progress.body = body

    // 4-6. The stamp: issued by the caller, for this envelope and this sender key.
    const envelopeDigest = tokenDigest(body.envelope)
    let stamp: Evidence
    try {
      stamp = await verifyStamp(body.stamp, (kid, at) => nodeKey(claims.iss, kid, at), { issuer: claims.iss, envelopeDigest })
    } catch (err) {
      return fail('stamp-invalid', err instanceof TimbreError ? err.detail : 'the stamp does not verify')
    }
    const senderKid = await thumbprintOf(body.senderKey)
    if (stamp.senderKid !== senderKid) fail('stamp-invalid', 'the stamp names another sender key')

    // 7. The envelope: signed by that key only, then its payload schema, then the address check rule.
    const senderKey: PublicJwk = { ...body.senderKey, kid: senderKid, use: 'sig', alg: 'EdDSA' }
    const { payload } = await verifyJws<EnvelopeMetadata>(body.envelope, {
      typ: ENVELOPE_TYP,
      resolveKey: (kid) => (kid === senderKid ? senderKey : undefined),
      code: 'envelope-invalid',
    })
    const metadata = assertSchema<EnvelopeMetadata>('envelope.json', payload)
    if (assertVaultAddress(metadata.recipient) !== metadata.recipient) fail('invalid-vault-address', 'the recipient is not in normal form')
    try {
      await verifyEnvelope(body.envelope, senderKey)
    } catch (err) {
      return fail('envelope-invalid', err instanceof TimbreError ? err.detail : 'the envelope does not verify')
    }

    // 8. The stamp is for this message.
    if (
      stamp.messageId !== metadata.messageId ||
      stamp.sender !== metadata.sender ||
      stamp.recipient !== metadata.recipient ||
      !digestEquals(stamp.contentDigest, metadata.content.digest)
    ) {
      fail('stamp-invalid', 'the stamp is for another message')
    }

    // 9. The route: a directory line, signed by the directory, for this recipient.
    const route = peekDirectoryLine(body.route)
    let line: DirectoryLine
    try {
      line = await verifyDirectoryLine(body.route, (kid) => directoryKey(kid, typeof route?.issuer === 'string' ? route.issuer : claims.iss))
    } catch {
      return fail('stamp-invalid', 'the route is not a directory line signed by the directory')
    }
    if (line.address !== metadata.recipient) fail('stamp-invalid', 'the route is for another address')

    // 10. The content is the one the envelope names, in an allowed JWE.
    if (tokenDigest(body.content) !== metadata.contentJweDigest) fail('content-digest-mismatch', 'the content JWE does not match contentJweDigest')
    const jwe = peekHeader(body.content)
    if (
      !jwe ||
      jwe.typ !== CONTENT_TYP ||
      jwe.alg !== KEY_AGREEMENT_ALG ||
      jwe.enc !== CONTENT_ENCRYPTION_ALG ||
      jwe.kid !== metadata.recipientKid ||
      'zip' in jwe ||
      'crit' in jwe
    ) {
      fail('envelope-invalid', 'the content JWE header is not allowed')
    }
    progress.metadata = metadata

    // 11. A repeat gets the original evidence, never a second deposit.
    const existing = await storage.findDeposit(metadata.sender, metadata.messageId)
    if (existing) return repeat(existing, metadata)

    // 12. The recipient is hosted here now.
    const account = await storage.account(metadata.recipient)
    if (!account) fail('recipient-unknown', 'the vault address is not hosted by this operator')
    if (account!.status === 'moved') fail('recipient-moved', 'the vault address moved to another operator', { operator: account!.operator })

    // 13-15. Size limit, decryption, then the plaintext against the signed size and digest.
    if (metadata.content.size > maxContentBytes) fail('content-too-large', `the limit is ${maxContentBytes} bytes`)
    if (!encryptionKeys.some((k) => k.kid === metadata.recipientKid)) {
      fail('content-undecryptable', 'the content is encrypted for a key this operator does not hold')
    }
    const document = await openContent(body.content, metadata, (kid) => encryptionKeys.find((k) => k.kid === kid))

    // 16. Sign, then store; the storage decides who was first.
    const time = now().toISOString()
    const { jws } = await signEvidence(
      {
        event: 'DepositAcceptance',
        time,
        issuer: operatorId,
        messageId: stamp.messageId,
        sender: stamp.sender,
        recipient: stamp.recipient,
        contentDigest: stamp.contentDigest,
        envelopeDigest: stamp.envelopeDigest,
        senderKid,
        ...(stamp.stampClass ? { stampClass: stamp.stampClass } : {}),
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
      senderKey,
      stamp: body.stamp,
      evidence: jws,
      depositedAt: time,
      size: document.byteLength,
      digest: metadata.content.digest,
    }
    const result = await storage.deposit(record, document)
    if (!result.inserted) return repeat(result.record, metadata)
    log?.info({ messageId: metadata.messageId, sender: metadata.sender, recipient: metadata.recipient, size: record.size }, 'relay deposited')
    return { status: 201, headers: { 'content-type': 'application/json' }, body: { evidence: jws } }
  }

  function repeat(existing: DepositRecord, metadata: EnvelopeMetadata): RelayResponse {
    // Same (sender, messageId) with another document is a conflict, not a repeat (TMB-RLY-009).
    if (!digestEquals(existing.digest, metadata.content.digest)) fail('message-id-conflict', 'the message id was deposited with another document')
    log?.info({ messageId: existing.messageId, sender: existing.sender }, 'relay repeated, original evidence returned')
    return { status: 200, headers: { 'content-type': 'application/json' }, body: { evidence: existing.evidence } }
  }

  // Signed DepositRejection, reason.code = the problem code.
  async function rejectionEvidence(err: TimbreError, progress: Progress): Promise<string | undefined> {
    // Only about a message whose envelope, stamp and route verified (checks 11 and later, TMB-RLY-017).
    if (!progress.body || !progress.metadata || err.retryable) return undefined
    const body = progress.body
    const m = progress.metadata
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
        contentDigest: m.content.digest,
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
      const headers: Record<string, string> = { 'content-type': 'application/problem+json', 'x-request-id': requestId }
      if (problem.status === 401) headers['www-authenticate'] = 'Timbre'
      return { status: problem.status, headers, body: problem }
    }
  }
}
