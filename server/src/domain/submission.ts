// Submissions and re-routes at the routing node: the checks of spec 5.2 in
// their order (TMB-SUB-002), idempotency per 5.4 (TMB-IDEM-*), the stamp
// (TMB-SUB-007) and, in one transaction, the jti claim, the delivery, its
// first outbox relay row, the stamp evidence and the idempotency completion
// (TMB-SUB-006). Re-routes follow spec 9.5 (TMB-PORT-025..027).
import { createHash } from 'node:crypto'
import {
  assertSchema,
  checkEnvelopeContent,
  peekEnvelope,
  signEvidence,
  TimbreError,
  tokenDigest,
  toPublicJwk,
  verifyEnvelope,
  verifyRequestProof,
  type EnvelopeMetadata,
  type PublicJwk,
} from '@timbre/sdk'
import { sql, type Insertable, type Transaction } from 'kysely'
import { NodeError } from '../errors.js'
import { problemBody } from '../http/problem.js'
import { Batcher, type Outcome } from '../store/batcher.js'
import { replayExpiresAt } from '../store/replay-repository.js'
import type { Database, DeliveriesTable } from '../store/schema.js'
import { senderCache } from '../store/sender-cache.js'
import type { RoutingServices } from './routing.js'
import { Metering } from './metering.js'

/** A submission as the HTTP layer hands it over. */
export interface IncomingRequest {
  method: string
  /** Path and query as received (the proof's `htu`). */
  url: string
  headers: Record<string, string | string[] | undefined>
  rawBody: Buffer | undefined
  requestId: string
}

/** What to answer: status, extra headers and the exact body text. */
export interface Answer {
  status: number
  headers: Record<string, string>
  /** JSON text, sent as is (an idempotent replay sends the stored bytes, TMB-IDEM-004). */
  body: string
  contentType: string
}

export interface AuthenticatedSender {
  id: string
  jwk: PublicJwk
  kid: string
}

/** TMB-IDEM-003: records are kept at least 7 days. */
const IDEMPOTENCY_TTL_MS = 7 * 24 * 3600 * 1000
/** TMB-IDEM-008: an in-progress marker older than this is released. */
const IN_PROGRESS_STALE_MS = 60_000
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/
const JSON_MEDIA = /^application\/json\s*(;.*)?$/i
const utf8 = new TextDecoder('utf-8', { fatal: true })

const header = (h: IncomingRequest['headers'], name: string): string | undefined => {
  const v = h[name]
  return Array.isArray(v) ? v[0] : v
}
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('base64url')
const nodeError = (err: unknown): unknown => (err instanceof TimbreError ? NodeError.from(err) : err)

/** Answers of steps 6-16 that are kept as idempotency records (TMB-IDEM-007). */
function storable(err: NodeError): boolean {
  if (err.code === 'message-id-conflict' || err.code === 'recipient-moved') return true
  return [400, 403, 404, 413, 422].includes(err.status)
}

function jweHeader(jwe: string): Record<string, unknown> | undefined {
  try {
    const h = JSON.parse(Buffer.from(jwe.split('.')[0] ?? '', 'base64url').toString('utf8')) as unknown
    return h && typeof h === 'object' && !Array.isArray(h) ? (h as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/** A new submission that passed steps 1-17, signed, waiting for step 18's write. */
interface Acceptance {
  auth: { sender: AuthenticatedSender; jti: string; exp: number }
  key: string
  delivery: Insertable<DeliveriesTable>
  evidenceId: string
  stampClass: 'standard' | 'registered'
  now: Date
  answer: Answer
}

/** The first attempt at an idempotency key (step 5), for the batched insert. */
interface KeyClaim {
  senderId: string
  key: string
  hash: string
  jti: string
  now: Date
}

/** What step 18 writes besides the delivery row, for a new submission or a re-route. */
interface Written {
  auth: Acceptance['auth']
  key: string
  evidenceId: string
  now: Date
  answer: Answer
  messageId: string
  stamp: string
}

const ok = <R>(value: R): Outcome<R> => ({ ok: true, value })
const nonceRows = (items: readonly Acceptance[]) => items.map((i) => ({ jti: i.auth.jti, expires_at: replayExpiresAt(i.auth.exp) }))
const relayRows = (items: readonly Written[]) =>
  items.map((i) => ({ kind: 'relay' as const, sender_id: i.auth.sender.id, message_id: i.messageId, payload: JSON.stringify({ senderKey: i.auth.sender.jwk }), available_at: i.now }))
const COMPLETED = { state: 'completed' as const, response_status: sql<number>`v.st::int`, response_body: sql<string>`v.b::jsonb` }
const written = (i: Acceptance): Written => ({ ...i, messageId: i.delivery.message_id, stamp: i.delivery.stamp })
// The idempotency completions as a VALUES list `v(s, k, st, b)` to update from.
const completions = (items: readonly Written[]) =>
  sql<{ s: string; k: string; st: string; b: string }>`(values ${sql.join(items.map((i) => sql`(${i.auth.sender.id}, ${i.key}, ${i.answer.status}, ${JSON.stringify({ text: i.answer.body, type: i.answer.contentType })})`))})`.as<'v'>(sql`v(s, k, st, b)`)

/** Members a re-route must keep from the original envelope (TMB-PORT-026). */
const REROUTE_SAME = ['messageId', 'sender', 'recipient', 'documentType', 'title', 'issueDate', 'retentionHint', 'senderReference'] as const

export class SubmissionService {
  readonly #r: RoutingServices
  readonly #metering: Metering

  // Group commit (BENCHMARKS.md): step 5's key inserts and step 18's writes of
  // concurrent submissions share statements and commits. One batch at a time
  // on the single-connection PGlite, a few on a PostgreSQL pool.
  readonly #keyClaims: Batcher<KeyClaim, boolean>
  readonly #acceptances: Batcher<Acceptance, void>
  readonly #existing: Batcher<{ senderId: string; messageId: string }, { envelope_digest: string; stamp: string } | undefined>

  constructor(routing: RoutingServices) {
    this.#r = routing
    this.#metering = new Metering(routing)
    const parallel = routing.config.databaseUrl ? 3 : 1
    this.#keyClaims = new Batcher({ maxBatch: 64, parallel, run: (items) => this.#claimKeys(items) })
    this.#acceptances = new Batcher({ maxBatch: 64, parallel, run: (items) => this.#writeAcceptances(items) })
    this.#existing = new Batcher({ maxBatch: 128, parallel, run: (items) => this.#findExisting(items) })
  }

  /**
   * Step 3: the sender's request proof, its key, its status, and a first replay check.
   * `handle` defers the replay check to the idempotency insert of step 5, which
   * does it in the same statement (and answers `request-replayed` before any
   * idempotency outcome, as step 3 would).
   */
  async authenticate(req: IncomingRequest, options: { deferReplayCheck?: boolean } = {}): Promise<{ sender: AuthenticatedSender; jti: string; exp: number }> {
    let sender: AuthenticatedSender | undefined
    try {
      const claims = await verifyRequestProof(header(req.headers, 'authorization'), {
        aud: this.#r.config.nodeId,
        method: req.method,
        path: req.url,
        body: req.rawBody ?? '',
        now: this.#r.now(),
        resolveKey: async (iss, kid) => {
          // Cached for at most SENDER_CACHE_TTL_MS; this process's admin changes invalidate it at once.
          const s = await senderCache(this.#r.db).get(iss, () => this.#r.db.selectFrom('senders').select(['id', 'jwk', 'kid', 'status']).where('id', '=', iss).executeTakeFirst())
          if (!s) throw new NodeError('sender-unknown', { detail: `sender ${iss} is not registered here` })
          if (s.status !== 'active') throw new NodeError('sender-disabled', { detail: `sender ${iss} is disabled` })
          sender = { id: s.id, jwk: toPublicJwk(s.jwk as unknown as PublicJwk), kid: s.kid }
          return s.kid === kid ? sender.jwk : undefined
        },
      })
      if (!sender || sender.id !== claims.iss) throw new NodeError('auth-invalid', { detail: 'the proof issuer is not the sender' })
      // The jti is claimed in the transaction that stores the answer; a proof already used is refused here.
      if (!options.deferReplayCheck) await this.#refuseReplayed(claims.jti)
      return { sender, jti: claims.jti, exp: claims.exp }
    } catch (err) {
      throw nodeError(err)
    }
  }

  async #refuseReplayed(jti: string): Promise<void> {
    const seen = await this.#r.db.selectFrom('replay_nonces').select('jti').where('jti', '=', jti).executeTakeFirst()
    if (seen) throw new NodeError('request-replayed')
  }

  /** `POST /v1/submissions` (spec 5.2) or, with `rerouteOf`, `POST /v1/deliveries/{messageId}/reroute` (9.5). */
  async handle(req: IncomingRequest, rerouteOf?: string): Promise<Answer> {
    // Step 1 (size) is Fastify's bodyLimit; step 2: the media type.
    if (req.rawBody && req.rawBody.byteLength > this.#r.config.limits.maxRequestBytes) throw new NodeError('body-too-large')
    if (!JSON_MEDIA.test(header(req.headers, 'content-type') ?? '')) {
      throw new NodeError('unsupported-media-type', { detail: 'the body must be application/json' })
    }
    // Step 3.
    const auth = await this.authenticate(req, { deferReplayCheck: true })
    // Step 4.
    const key = header(req.headers, 'idempotency-key')
    if (key === undefined || !KEY_PATTERN.test(key)) {
      await this.#refuseReplayed(auth.jti) // step 3 answers first
      throw new NodeError('idempotency-key-missing', { detail: 'Idempotency-Key must be 1 to 255 visible ASCII characters' })
    }
    // Step 5 (with step 3's replay check folded into its insert).
    const hash = sha256(req.rawBody ?? '')
    const replayed = await this.#beginIdempotency(auth.sender.id, key, hash, auth.jti)
    if (replayed) return replayed
    let answer: Answer
    try {
      answer = await this.#process(req, auth, key, rerouteOf)
    } catch (caught) {
      const err = nodeError(caught)
      if (err instanceof NodeError && storable(err)) {
        const body = JSON.stringify(problemBody(err, req.requestId))
        await this.#complete(auth, key, { status: err.status, headers: {}, body, contentType: 'application/problem+json' })
        return { status: err.status, headers: {}, body, contentType: 'application/problem+json' }
      }
      await this.#release(auth.sender.id, key)
      throw err
    }
    return answer
  }

  // TMB-IDEM-004..006, -008: replay, refuse, or take the key.
  async #beginIdempotency(senderId: string, key: string, hash: string, jti: string): Promise<Answer | undefined> {
    const db = this.#r.db
    for (let attempt = 0; attempt < 3; attempt++) {
      const now = this.#r.now()
      // Insert first: a new key (the common case) costs one statement, shared with
      // concurrent submissions; a key seen before is read after the conflict.
      if (await this.#keyClaims.submit({ senderId, key, hash, jti, now })) return undefined
      // Nothing inserted: a replayed proof (refused first, as in step 3) or a key seen before.
      await this.#refuseReplayed(jti)
      const row = await db.selectFrom('idempotency_keys').selectAll().where('sender_id', '=', senderId).where('key', '=', key).executeTakeFirst()
      if (row) {
        const expired = new Date(row.expires_at).getTime() <= now.getTime()
        const stale = row.state === 'in_progress' && now.getTime() - new Date(row.created_at).getTime() > IN_PROGRESS_STALE_MS
        if (!expired && !stale) {
          if (row.request_hash !== hash) throw new NodeError('idempotency-key-reused', { detail: 'this Idempotency-Key was used with another body' })
          if (row.state === 'in_progress') throw new NodeError('idempotency-in-progress', { retryAfter: 1 })
          const stored = row.response_body as { text: string; type: string }
          return { status: row.response_status ?? 200, headers: { 'idempotency-replayed': 'true' }, body: stored.text, contentType: stored.type }
        }
        // Expired or abandoned: take it over, but only if nobody else did meanwhile.
        const taken = await db
          .updateTable('idempotency_keys')
          .set({ request_hash: hash, state: 'in_progress', response_status: null, response_body: null, created_at: now, expires_at: new Date(now.getTime() + IDEMPOTENCY_TTL_MS) })
          .where('sender_id', '=', senderId).where('key', '=', key)
          .where('created_at', '=', row.created_at).where('state', '=', row.state)
          .executeTakeFirst()
        if (Number(taken.numUpdatedRows) === 1) return undefined
      }
    }
    throw new NodeError('idempotency-in-progress', { retryAfter: 1 })
  }

  // Step 5's insert for a batch: one statement, autocommitted. A key is taken
  // only when the proof's jti was never used (step 3's replay check, same
  // statement). A key twice in one batch is sent once; the other copy reads
  // the in-progress row and is answered 409, as if it had come a moment later.
  async #claimKeys(items: readonly KeyClaim[]): Promise<Outcome<boolean>[]> {
    const first = new Map<string, KeyClaim>()
    for (const i of items) if (!first.has(`${i.senderId}\u0000${i.key}`)) first.set(`${i.senderId}\u0000${i.key}`, i)
    const rows = [...first.values()].map((i) => sql`(${i.senderId}, ${i.key}, ${i.hash}, ${i.jti}, ${i.now.toISOString()}, ${new Date(i.now.getTime() + IDEMPOTENCY_TTL_MS).toISOString()})`)
    const res = await sql<{ sender_id: string; key: string }>`insert into idempotency_keys (sender_id, key, request_hash, state, created_at, expires_at)
      select v.s, v.k, v.h, 'in_progress', v.c::timestamptz, v.e::timestamptz from (values ${sql.join(rows)}) as v(s, k, h, j, c, e)
      where not exists (select 1 from replay_nonces r where r.jti = v.j)
      on conflict (sender_id, key) do nothing
      returning sender_id, key`.execute(this.#r.db)
    const taken = new Set(res.rows.map((r) => `${r.sender_id}\u0000${r.key}`))
    return items.map((i) => ok(first.get(`${i.senderId}\u0000${i.key}`) === i && taken.has(`${i.senderId}\u0000${i.key}`)))
  }

  // Step 14's read for a batch: the deliveries already accepted under these (sender, messageId).
  async #findExisting(items: readonly { senderId: string; messageId: string }[]): Promise<Outcome<{ envelope_digest: string; stamp: string } | undefined>[]> {
    const rows = await this.#r.db.selectFrom('deliveries').select(['sender_id', 'message_id', 'envelope_digest', 'stamp'])
      .where((eb) => eb(eb.refTuple('sender_id', 'message_id'), 'in', items.map((i) => eb.tuple(i.senderId, i.messageId))))
      .execute()
    const found = new Map(rows.map((r) => [`${r.sender_id}\u0000${r.message_id}`, { envelope_digest: r.envelope_digest, stamp: r.stamp }]))
    return items.map((i) => ok(found.get(`${i.senderId}\u0000${i.messageId}`)))
  }

  async #release(senderId: string, key: string): Promise<void> {
    await this.#r.db.deleteFrom('idempotency_keys').where('sender_id', '=', senderId).where('key', '=', key).where('state', '=', 'in_progress').execute()
  }

  async #markComplete(trx: Transaction<Database>, senderId: string, key: string, answer: Answer): Promise<void> {
    await trx
      .updateTable('idempotency_keys')
      .set({ state: 'completed', response_status: answer.status, response_body: JSON.stringify({ text: answer.body, type: answer.contentType }) })
      .where('sender_id', '=', senderId).where('key', '=', key)
      .execute()
  }

  async #claim(trx: Transaction<Database>, auth: { jti: string; exp: number }): Promise<void> {
    if (!(await this.#r.replay.claim(auth.jti, auth.exp, trx))) throw new NodeError('request-replayed')
  }

  // A stored refusal: the jti is used up with it (a replayed proof is then refused at step 3).
  async #complete(auth: { sender: AuthenticatedSender; jti: string; exp: number }, key: string, answer: Answer): Promise<void> {
    try {
      await this.#r.db.transaction().execute(async (trx) => {
        await this.#claim(trx, auth)
        await this.#markComplete(trx, auth.sender.id, key, answer)
      })
    } catch (err) {
      await this.#release(auth.sender.id, key)
      throw err
    }
  }

  // Steps 6 to 18.
  async #process(req: IncomingRequest, auth: { sender: AuthenticatedSender; jti: string; exp: number }, key: string, rerouteOf?: string): Promise<Answer> {
    const { config } = this.#r
    const sender = auth.sender
    // Step 6: JSON and the request schema.
    let parsed: unknown
    try {
      parsed = JSON.parse(utf8.decode(req.rawBody ?? new Uint8Array()))
    } catch {
      throw new NodeError('malformed-json', { detail: 'the body is not valid JSON' })
    }
    const body = assertSchema<{ envelope: string; content: string; stampClass?: 'standard' | 'registered' }>(
      rerouteOf ? 'reroute-request.json' : 'submission-request.json',
      parsed,
    )
    // TMB-MTR-002: a class this node does not sell is a bad request.
    if (!rerouteOf) this.#metering.assertSold(body.stampClass ?? 'standard')
    // Steps 7-10: signature with the sender's key (TMB-SUB-003), sender = iss, envelope schema, address rule.
    let meta: EnvelopeMetadata
    try {
      meta = await verifyEnvelope(body.envelope, sender.jwk)
    } catch (err) {
      // A shape failure comes after a good signature: the sender check (step 8) answers first.
      const peeked = peekEnvelope(body.envelope)
      if (err instanceof TimbreError && err.code === 'invalid-vault-address' && peeked?.sender !== sender.id) throw new NodeError('sender-mismatch')
      throw err
    }
    if (meta.sender !== sender.id) throw new NodeError('sender-mismatch', { detail: 'the envelope sender is not the authenticated sender' })
    assertSchema('envelope.json', meta)
    // Step 11.
    if (meta.content.size > config.limits.maxContentBytes) {
      throw new NodeError('content-too-large', { detail: `the limit is ${config.limits.maxContentBytes} bytes` })
    }
    // Steps 12-13: the content JWE is the one the envelope names, with an allowed header.
    // The signature was verified above (steps 7-10): only the binding is checked here, not the signature again.
    checkEnvelopeContent(meta, body.content)
    const jwe = jweHeader(body.content)
    if (!jwe || 'zip' in jwe || 'crit' in jwe) throw new NodeError('envelope-invalid', { detail: 'the content JWE header is not allowed' })

    const envelopeDigest = tokenDigest(body.envelope)
    const location = `/v1/deliveries/${meta.messageId}`
    const accepted = (stamp: string): Answer => ({
      status: 202,
      headers: { location },
      body: JSON.stringify({ messageId: meta.messageId, stamp, status: 'accepted' }),
      contentType: 'application/json',
    })

    let original: { stamp_class: 'standard' | 'registered' } | undefined
    if (rerouteOf) {
      // TMB-PORT-026.
      if (meta.messageId !== rerouteOf) throw new NodeError('message-id-conflict', { detail: 'the envelope is for another message id' })
      const d = await this.#r.db.selectFrom('deliveries').select(['status', 'envelope', 'stamp_class']).where('sender_id', '=', sender.id).where('message_id', '=', rerouteOf).executeTakeFirst()
      if (!d) throw new NodeError('not-found', { detail: `no delivery ${rerouteOf}` })
      if (d.status !== 'rerouting') throw new NodeError('message-id-conflict', { detail: `the delivery is ${d.status}, not rerouting` })
      const before = peekEnvelope(d.envelope)!
      const differs = REROUTE_SAME.some((k) => before[k] !== meta[k]) ||
        before.content.mediaType !== meta.content.mediaType || before.content.size !== meta.content.size ||
        before.content.digest.alg !== meta.content.digest.alg || before.content.digest.value !== meta.content.digest.value
      if (differs) throw new NodeError('message-id-conflict', { detail: 'a re-route must keep the metadata and content of the original envelope' })
      original = d
    } else {
      // Step 14 (TMB-IDEM-010/011).
      const existing = await this.#existing.submit({ senderId: sender.id, messageId: meta.messageId })
      if (existing) return this.#answerExisting(auth, key, existing, envelopeDigest, accepted)
    }

    // Steps 15-16 (TMB-SUB-004/005).
    const resolved = await this.#r.directory.lookup(meta.recipient, this.#r.now())
    if (!resolved) throw new NodeError('recipient-unknown', { detail: 'no directory line is valid for this address' })
    const line = resolved.line
    if (!line.encryptionKeys.some((k) => k.kid === meta.recipientKid)) {
      throw new NodeError('recipient-moved', { detail: 'the content is encrypted for a key the line no longer lists', extra: { operator: line.operator, line: resolved.jws } })
    }
    // Step 17 (TMB-MTR-007/008): a read-only check here; the charge's conditional
    // UPDATE inside step 18's transaction checks again, and a 402 there rolls everything back.
    if (!rerouteOf) await this.#metering.precheck(sender.id, original?.stamp_class ?? body.stampClass ?? 'standard')
    // Step 18.
    const stampClass = original?.stamp_class ?? body.stampClass ?? 'standard'
    const stampFor = (now: Date, previousEvidenceId?: string) => signEvidence(
      {
        event: 'SubmissionAcceptance',
        time: now.toISOString(),
        issuer: config.nodeId,
        messageId: meta.messageId,
        sender: meta.sender,
        recipient: meta.recipient,
        contentDigest: meta.content.digest,
        envelopeDigest,
        senderKid: sender.kid,
        recipientOperator: line.operator,
        stampClass,
        ...(previousEvidenceId ? { previousEvidenceId } : {}),
      },
      this.#r.keys.signingKey,
    )
    if (rerouteOf) {
      const answer = await this.#r.db.transaction().execute(async (trx) => {
        await this.#claim(trx, auth)
        const now = this.#r.now()
        const d = await trx.selectFrom('deliveries').select('status').where('sender_id', '=', sender.id).where('message_id', '=', rerouteOf).forUpdate().executeTakeFirst()
        if (d?.status !== 'rerouting') throw new NodeError('message-id-conflict', { detail: 'the delivery is no longer rerouting' })
        const rejection = await trx.selectFrom('evidence').select('evidence_id').where('sender_id', '=', sender.id).where('message_id', '=', rerouteOf)
          .where('event', '=', 'RelayRejection').where('issuer', '=', config.nodeId).orderBy('seq', 'desc').limit(1).executeTakeFirst()
        const { jws: stamp, evidence } = await stampFor(now, rejection?.evidence_id)
        const answer = accepted(stamp)
        // TMB-MTR-003: a re-route is never charged. TMB-PORT-027: the same delivery,
        // the new envelope; the window is not extended (TMB-RTY-005).
        await trx.updateTable('deliveries')
          .set({ envelope: body.envelope, content: body.content, envelope_digest: envelopeDigest, stamp, status: 'accepted', recipient_operator: line.operator, route_version: line.version, reason: null, next_attempt_at: now, updated_at: now })
          .where('sender_id', '=', sender.id).where('message_id', '=', rerouteOf).execute()
        await trx.deleteFrom('outbox').where('kind', '=', 'relay').where('sender_id', '=', sender.id).where('message_id', '=', rerouteOf).execute()
        await this.#finish(trx, [{ auth, key, evidenceId: evidence.evidenceId, now, answer, messageId: meta.messageId, stamp }])
        return answer
      })
      this.#r.kick()
      return answer
    }
    // The stamp is signed before the write, so that the write can be shared.
    const now = this.#r.now()
    const { jws: stamp, evidence } = await stampFor(now)
    const answer = accepted(stamp)
    const acceptance: Acceptance = {
      auth,
      key,
      evidenceId: evidence.evidenceId,
      stampClass,
      now,
      answer,
      delivery: {
        sender_id: sender.id,
        message_id: meta.messageId,
        recipient: meta.recipient,
        envelope: body.envelope,
        content: body.content,
        envelope_digest: envelopeDigest,
        content_digest: JSON.stringify(meta.content.digest),
        stamp,
        stamp_class: stampClass,
        status: 'accepted',
        attempts: 0,
        next_attempt_at: now,
        window_ends_at: new Date(now.getTime() + config.delivery.windowSeconds * 1000),
        recipient_operator: line.operator,
        route_version: line.version,
        created_at: now,
        updated_at: now,
      },
    }
    try {
      await this.#acceptances.submit(acceptance)
    } catch (err) {
      if (err instanceof RaceLost) {
        const existing = await this.#r.db.selectFrom('deliveries').select(['envelope_digest', 'stamp']).where('sender_id', '=', sender.id).where('message_id', '=', meta.messageId).executeTakeFirstOrThrow()
        return this.#answerExisting(auth, key, existing, envelopeDigest, accepted)
      }
      throw err
    }
    this.#r.kick()
    return answer
  }

  // Step 18 for a batch of new submissions: one transaction, one multi-row
  // statement per table. Any surprise — a jti or messageId taken meanwhile
  // (also twice in the batch), a 402 — rolls the batch back and each item is
  // written alone, where the single-item rules answer exactly as before.
  async #writeAcceptances(items: readonly Acceptance[]): Promise<Outcome<void>[]> {
    if (!this.#metering.charging) {
      try {
        await this.#oneStatement(items)
        return items.map(() => ok(undefined))
      } catch {
        // A conflict (or anything else): each item now meets it alone and answers for itself.
      }
    } else if (items.length > 1) {
      try {
        await this.#r.db.transaction().execute(async (trx) => {
          const claimed = await trx.insertInto('replay_nonces').values(nonceRows(items))
            .onConflict((oc) => oc.column('jti').doNothing()).returning('jti').execute()
          if (claimed.length !== items.length) throw new BatchFallback()
          for (const i of items) await this.#charge(trx, i)
          const inserted = await trx.insertInto('deliveries').values(items.map((i) => i.delivery))
            .onConflict((oc) => oc.columns(['sender_id', 'message_id']).doNothing()).returning('message_id').execute()
          if (inserted.length !== items.length) throw new BatchFallback()
          await this.#finish(trx, items.map(written))
        })
        return items.map(() => ok(undefined))
      } catch {
        // Whatever went wrong, each item now meets it alone and answers for itself.
      }
    }
    const outcomes: Outcome<void>[] = []
    for (const i of items) {
      try {
        await this.#r.db.transaction().execute(async (trx) => {
          await this.#claim(trx, i.auth)
          await this.#charge(trx, i)
          const ins = await trx.insertInto('deliveries').values(i.delivery)
            .onConflict((oc) => oc.columns(['sender_id', 'message_id']).doNothing()).executeTakeFirst()
          // A concurrent submission of the same message won the race: answer as step 14 would.
          if (Number(ins.numInsertedOrUpdatedRows ?? 0n) !== 1) throw new RaceLost()
          await this.#finish(trx, [written(i)])
        })
        outcomes.push(ok(undefined))
      } catch (error) {
        outcomes.push({ ok: false, error })
      }
    }
    return outcomes
  }

  // Without charges, step 18 for a whole batch is ONE statement: a single
  // statement is atomic on its own, so no BEGIN/COMMIT round trips (on PGlite
  // a transaction costs several times a statement). The data-modifying CTEs
  // all run; the final division fails the statement, and so undoes every row
  // of it, when a jti or a messageId was taken already (fewer rows returned
  // than items), and the caller falls back to one transaction per item.
  async #oneStatement(items: readonly Acceptance[]): Promise<void> {
    const n = items.length
    const w = items.map(written)
    await this.#r.db
      .with('n', (db) => db.insertInto('replay_nonces').values(nonceRows(items))
        .onConflict((oc) => oc.column('jti').doNothing())
        .returning('jti'))
      .with('d', (db) => db.insertInto('deliveries').values(items.map((i) => i.delivery))
        .onConflict((oc) => oc.columns(['sender_id', 'message_id']).doNothing())
        .returning('message_id'))
      .with('e', (db) => db.insertInto('evidence').values(this.#stampRows(w)).returning('evidence_id'))
      .with('o', (db) => db.insertInto('outbox').values(relayRows(w)).returning('id'))
      .with('k', (db) => db.updateTable('idempotency_keys')
        .from(completions(w))
        .set(COMPLETED)
        .where(sql<boolean>`idempotency_keys.sender_id = v.s and idempotency_keys.key = v.k`)
        .returning('idempotency_keys.key'))
      .selectNoFrom(sql<number>`1 / (case when (select count(*) from n) = ${n} and (select count(*) from d) = ${n} and (select count(*) from k) = ${n} then 1 else 0 end)`.as('ok'))
      .execute()
  }

  // Steps 17-18 (TMB-MTR-003/007/008): one stamp charged at acceptance; a 402 here rolls everything back.
  async #charge(trx: Transaction<Database>, i: Acceptance): Promise<void> {
    await this.#metering.charge(trx, { senderId: i.auth.sender.id, messageId: i.delivery.message_id, stampClass: i.stampClass, evidenceId: i.evidenceId })
  }

  // The stamps' evidence, the relay jobs and the idempotency completions in one
  // statement (data-modifying CTEs), for one item or a batch.
  async #finish(trx: Transaction<Database>, items: readonly Written[]): Promise<void> {
    await trx
      .with('e', (db) => db.insertInto('evidence').values(this.#stampRows(items)).returning('evidence_id'))
      .with('o', (db) => db.insertInto('outbox').values(relayRows(items)).returning('id'))
      .updateTable('idempotency_keys')
      .from(completions(items))
      .set(COMPLETED)
      .where(sql<boolean>`idempotency_keys.sender_id = v.s and idempotency_keys.key = v.k`)
      .execute()
  }

  #stampRows(items: readonly Written[]) {
    return items.map((i) => ({ evidence_id: i.evidenceId, sender_id: i.auth.sender.id, message_id: i.messageId, event: 'SubmissionAcceptance' as const, issuer: this.#r.config.nodeId, jws: i.stamp, created_at: i.now }))
  }

  async #answerExisting(
    auth: { sender: AuthenticatedSender; jti: string; exp: number },
    key: string,
    existing: { envelope_digest: string; stamp: string },
    envelopeDigest: string,
    accepted: (stamp: string) => Answer,
  ): Promise<Answer> {
    if (existing.envelope_digest !== envelopeDigest) throw new NodeError('message-id-conflict', { detail: 'this message id was accepted with another envelope' })
    const original = accepted(existing.stamp)
    await this.#complete(auth, key, original)
    return { ...original, headers: { ...original.headers, 'idempotency-replayed': 'true' } }
  }
}

class RaceLost extends Error {}
/** A batch met a conflict: write its items one by one. */
class BatchFallback extends Error {}

