// Reading deliveries (TMB-SUB-011/012/013) and attaching evidence pushed by
// vault nodes after the relay (TMB-EVD-014).
import { assertSchema, FINAL_STATUSES, TimbreError, UUID_PATTERN, verifyEvidence, verifyRequestProof } from '@timbre/sdk'
import { NodeError } from '../errors.js'
import type { AuthenticatedSender, IncomingRequest, SubmissionService } from './submission.js'
import { recordEvidence, type RoutingServices } from './routing.js'

const JSON_MEDIA = /^application\/json\s*(;.*)?$/i
const iso = (d: Date | string) => new Date(d).toISOString()

export class DeliveryQueries {
  readonly #r: RoutingServices
  readonly #submissions: SubmissionService

  constructor(routing: RoutingServices, submissions: SubmissionService) {
    this.#r = routing
    this.#submissions = submissions
  }

  /** A sender's proof over a GET (empty body); its jti is used up at once. */
  async authenticateRead(req: IncomingRequest): Promise<AuthenticatedSender> {
    const auth = await this.#submissions.authenticate({ ...req, rawBody: undefined })
    if (!(await this.#r.replay.claim(auth.jti, auth.exp))) throw new NodeError('request-replayed')
    return auth.sender
  }

  // Another sender's message is indistinguishable from an unknown one (TMB-SUB-013).
  async #delivery(sender: AuthenticatedSender, messageId: string) {
    const d = UUID_PATTERN.test(messageId)
      ? await this.#r.db.selectFrom('deliveries')
        .select(['message_id', 'sender_id', 'recipient', 'status', 'recipient_operator', 'created_at', 'updated_at', 'attempts', 'next_attempt_at', 'window_ends_at', 'reason'])
        .where('sender_id', '=', sender.id).where('message_id', '=', messageId).executeTakeFirst()
      : undefined
    if (!d) throw new NodeError('not-found', { detail: `no delivery ${messageId}` })
    return d
  }

  /** `GET /v1/deliveries/{messageId}` (delivery-status.json). */
  async status(sender: AuthenticatedSender, messageId: string): Promise<Record<string, unknown>> {
    const d = await this.#delivery(sender, messageId)
    const count = await this.#r.db.selectFrom('evidence').select((eb) => eb.fn.countAll<string>().as('n'))
      .where('sender_id', '=', sender.id).where('message_id', '=', messageId).executeTakeFirstOrThrow()
    const final = FINAL_STATUSES.includes(d.status)
    return {
      messageId: d.message_id,
      sender: d.sender_id,
      recipient: d.recipient,
      status: d.status,
      final,
      ...(d.recipient_operator ? { recipientOperator: d.recipient_operator } : {}),
      acceptedAt: iso(d.created_at),
      updatedAt: iso(d.updated_at),
      attempts: d.attempts,
      ...(!final && d.next_attempt_at ? { nextAttemptAt: iso(d.next_attempt_at) } : {}),
      deadline: iso(d.window_ends_at),
      ...(d.reason ? { reason: d.reason } : {}),
      evidenceCount: Number(count.n),
    }
  }

  /** `GET /v1/deliveries/{messageId}/evidence`: in the order learnt, the stamp first (TMB-SUB-012). */
  async evidence(sender: AuthenticatedSender, messageId: string): Promise<{ evidence: string[] }> {
    await this.#delivery(sender, messageId)
    const rows = await this.#r.db.selectFrom('evidence').select('jws')
      .where('sender_id', '=', sender.id).where('message_id', '=', messageId).orderBy('seq').execute()
    return { evidence: rows.map((r) => r.jws) }
  }

  /** `POST /v1/evidence` from a trust-listed vault node (TMB-EVD-014). */
  async pushEvidence(req: IncomingRequest): Promise<void> {
    if (!JSON_MEDIA.test(String(req.headers['content-type'] ?? ''))) throw new NodeError('unsupported-media-type')
    const directory = this.#r.directory
    let iss: string
    try {
      const claims = await verifyRequestProof(typeof req.headers.authorization === 'string' ? req.headers.authorization : undefined, {
        aud: this.#r.config.nodeId,
        method: req.method,
        path: req.url,
        body: req.rawBody ?? '',
        now: this.#r.now(),
        resolveKey: async (caller, kid) => {
          const op = await directory.operator(caller)
          if (!op || op.status !== 'active') throw new NodeError('node-untrusted', { detail: `${caller} is not a trusted operator` })
          return directory.nodeKey(caller, kid)
        },
      })
      if (!(await this.#r.replay.claim(claims.jti, claims.exp))) throw new NodeError('request-replayed')
      iss = claims.iss
    } catch (err) {
      throw err instanceof TimbreError ? NodeError.from(err) : err
    }
    let body: { evidence: string }
    try {
      body = assertSchema('evidence-push.json', JSON.parse((req.rawBody ?? Buffer.alloc(0)).toString('utf8')))
    } catch (err) {
      if (err instanceof TimbreError) throw NodeError.from(err)
      throw new NodeError('malformed-json')
    }
    let ev
    try {
      ev = await verifyEvidence(body.evidence, (kid, at) => directory.nodeKey(iss, kid, at), { issuer: iss })
    } catch (err) {
      throw new NodeError('schema-violation', { detail: `the evidence does not verify: ${(err as Error).message}`, cause: err })
    }
    const d = await this.#r.db.selectFrom('deliveries').select(['envelope_digest', 'content_digest']).where('sender_id', '=', ev.sender).where('message_id', '=', ev.messageId).executeTakeFirst()
    if (!d) throw new NodeError('not-found', { detail: 'no such delivery' })
    // TMB-EVD-021: evidence about another document (or made up by an operator
    // that never held this one) is not attached, whoever signed it.
    const content = (typeof d.content_digest === 'string' ? JSON.parse(d.content_digest) : d.content_digest) as { alg: string; value: string }
    if (ev.envelopeDigest !== d.envelope_digest || ev.contentDigest?.alg !== content.alg || ev.contentDigest?.value !== content.value) {
      throw new NodeError('schema-violation', { detail: 'the evidence is about another envelope or content than this delivery', extra: { errors: [{ path: '/evidence', message: 'envelopeDigest and contentDigest must be those of the delivery' }] } })
    }
    await recordEvidence(this.#r.db, ev.sender, body.evidence, ev, this.#r.now())
  }
}
