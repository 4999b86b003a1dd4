/** Submission, idempotency and delivery status on a routing node (TMB-SUB, TMB-IDEM, TMB-AUTH). */
import { generateSigningKey, tokenDigest, verifyStamp, uuidv7, generateVaultAddress } from '@timbre/sdk'
import { defineAssertion, type Assertion } from '../assertion.js'
import { expectProblem } from '../problem.js'
import { SimulatedSender } from '../../actors/sender.js'
import { tamperSignature } from '../../actors/jws.js'
import { configuredSender, getAsSender, recipientKeyFor, sealFor, submit } from './kit.js'
import type { AssertionContext } from '../../runner/context.js'

function must(a: Omit<Assertion, 'level' | 'profile'>): Assertion {
  return defineAssertion({ ...a, level: 'MUST', profile: 'routing-node' })
}

async function accepted(ctx: AssertionContext, res: Awaited<ReturnType<typeof submit>>, sealed: { envelope: string; metadata: { messageId: string } }) {
  const t = await ctx.target()
  ctx.check(res.status === 202, `expected 202, got ${res.status}${res.json?.code ? ' ' + res.json.code : ''}`)
  ctx.check(res.json?.messageId === sealed.metadata.messageId, 'messageId differs from the envelope')
  ctx.check(res.json?.status === 'accepted', `status is ${res.json?.status}`)
  try {
    return await verifyStamp(res.json.stamp, t.keys, { messageId: sealed.metadata.messageId, envelopeDigest: tokenDigest(sealed.envelope), issuer: t.operatorId })
  } catch (err) {
    ctx.fail(`the stamp does not verify with the target's JWKS: ${(err as Error).message}`)
  }
}

export const routerAssertions: Assertion[] = [
  must({
    id: 'router.submission.accept',
    description: 'A valid submission is answered 202 with a stamp verifiable by the target JWKS and a Location header',
    requirements: ['TMB-SUB-001', 'TMB-SUB-006', 'TMB-SUB-007', 'TMB-AUTH-001'],
    async run(ctx: AssertionContext) {
      const sealed = await sealFor(ctx)
      const res = await submit(ctx, { envelope: sealed.envelope, content: sealed.content })
      const stamp = await accepted(ctx, res, sealed)
      ctx.check(stamp.senderKid === (await configuredSender(ctx)).key.kid, 'stamp senderKid is not the envelope kid')
      ctx.check(JSON.stringify(stamp.contentDigest) === JSON.stringify(sealed.metadata.content.digest), 'stamp contentDigest differs from the envelope')
      ctx.check((res.headers.location ?? '').endsWith(`/v1/deliveries/${sealed.metadata.messageId}`), `Location is ${res.headers.location}`)
    },
  }),
  must({
    id: 'router.idempotency.key-missing',
    description: 'A submission without Idempotency-Key is refused with 400 idempotency-key-missing',
    requirements: ['TMB-IDEM-001'],
    async run(ctx: AssertionContext) {
      const sealed = await sealFor(ctx)
      expectProblem(ctx, await submit(ctx, { envelope: sealed.envelope, content: sealed.content }, { idempotencyKey: false }), 'idempotency-key-missing')
    },
  }),
  must({
    id: 'router.idempotency.replay',
    description: 'The same Idempotency-Key with the same body replays the stored answer with Idempotency-Replayed: true',
    requirements: ['TMB-IDEM-004'],
    async run(ctx: AssertionContext) {
      const sealed = await sealFor(ctx)
      const key = uuidv7()
      const body = JSON.stringify({ envelope: sealed.envelope, content: sealed.content })
      const first = await submit(ctx, body, { idempotencyKey: key })
      await accepted(ctx, first, sealed)
      const again = await submit(ctx, body, { idempotencyKey: key })
      ctx.check(again.status === first.status && again.text === first.text, 'the replayed answer differs from the original')
      ctx.check(again.headers['idempotency-replayed'] === 'true', 'Idempotency-Replayed: true is missing')
    },
  }),
  must({
    id: 'router.idempotency.key-reused',
    description: 'The same Idempotency-Key with another body is refused with 422 idempotency-key-reused',
    requirements: ['TMB-IDEM-005'],
    async run(ctx: AssertionContext) {
      const key = uuidv7()
      const a = await sealFor(ctx)
      await accepted(ctx, await submit(ctx, { envelope: a.envelope, content: a.content }, { idempotencyKey: key }), a)
      const b = await sealFor(ctx)
      expectProblem(ctx, await submit(ctx, { envelope: b.envelope, content: b.content }, { idempotencyKey: key }), 'idempotency-key-reused')
    },
  }),
  must({
    id: 'router.idempotency.message-id-replay',
    description: 'A new key with an already accepted identical envelope returns the original 202 answer',
    requirements: ['TMB-IDEM-010', 'TMB-SUB-008'],
    async run(ctx: AssertionContext) {
      const a = await sealFor(ctx)
      const body = { envelope: a.envelope, content: a.content }
      const first = await submit(ctx, body)
      const s1 = await accepted(ctx, first, a)
      const again = await submit(ctx, body)
      const s2 = await accepted(ctx, again, a)
      ctx.check(s1.evidenceId === s2.evidenceId, 'a second stamp was issued for the same (sender, messageId)')
    },
  }),
  must({
    id: 'router.idempotency.message-id-conflict',
    description: 'Another envelope under an accepted messageId is refused with 409 message-id-conflict',
    requirements: ['TMB-IDEM-011'],
    async run(ctx: AssertionContext) {
      const messageId = uuidv7()
      const a = await sealFor(ctx, { messageId })
      await accepted(ctx, await submit(ctx, { envelope: a.envelope, content: a.content }), a)
      const b = await sealFor(ctx, { messageId, document: 'another document\n' })
      expectProblem(ctx, await submit(ctx, { envelope: b.envelope, content: b.content }), 'message-id-conflict')
    },
  }),
  must({
    id: 'router.auth.missing-proof',
    description: 'A submission without Authorization is refused with 401 auth-required',
    requirements: ['TMB-AUTH-003', 'TMB-AUTH-001'],
    async run(ctx: AssertionContext) {
      const a = await sealFor(ctx)
      expectProblem(ctx, await submit(ctx, { envelope: a.envelope, content: a.content }, { proof: false }), 'auth-required')
    },
  }),
  must({
    id: 'router.auth.replay',
    description: 'A submission with an already used proof is refused with 401 request-replayed',
    requirements: ['TMB-AUTH-007'],
    async run(ctx: AssertionContext) {
      const a = await sealFor(ctx)
      const body = JSON.stringify({ envelope: a.envelope, content: a.content })
      const key = uuidv7()
      const first = await submit(ctx, body, { idempotencyKey: key })
      await accepted(ctx, first, a)
      expectProblem(ctx, await submit(ctx, body, { idempotencyKey: key, authorization: first.authorization! }), 'request-replayed')
    },
  }),
  must({
    id: 'router.auth.unknown-sender',
    description: 'A submission by a sender the target does not know is refused with 403 sender-unknown',
    requirements: ['TMB-AUTH-008'],
    async run(ctx: AssertionContext) {
      const stranger = await SimulatedSender.create('0009:CONFORMANCE-UNKNOWN', await generateSigningKey())
      const a = await sealFor(ctx, { sender: stranger })
      expectProblem(ctx, await submit(ctx, { envelope: a.envelope, content: a.content }, { sender: stranger }), 'sender-unknown')
    },
  }),
  must({
    id: 'router.submission.sender-mismatch',
    description: "An envelope naming another sender than the proof's iss is refused with 403 sender-mismatch",
    requirements: ['TMB-SUB-003'],
    async run(ctx: AssertionContext) {
      const me = await configuredSender(ctx)
      const impostor = new SimulatedSender('0009:CONFORMANCE-OTHER', me.key)
      const a = await sealFor(ctx, { sender: impostor })
      expectProblem(ctx, await submit(ctx, { envelope: a.envelope, content: a.content }), 'sender-mismatch')
    },
  }),
  must({
    id: 'router.submission.tampered-envelope',
    description: 'A submission whose envelope signature does not verify is refused with 400 envelope-invalid',
    requirements: ['TMB-ENV-008'],
    async run(ctx: AssertionContext) {
      const a = await sealFor(ctx)
      expectProblem(ctx, await submit(ctx, { envelope: tamperSignature(a.envelope), content: a.content }), 'envelope-invalid')
    },
  }),
  must({
    id: 'router.submission.content-swapped',
    description: 'A submission whose content is not the JWE the envelope binds is refused with 422 content-digest-mismatch',
    requirements: ['TMB-ENV-009'],
    async run(ctx: AssertionContext) {
      const a = await sealFor(ctx)
      const b = await sealFor(ctx)
      expectProblem(ctx, await submit(ctx, { envelope: a.envelope, content: b.content }), 'content-digest-mismatch')
    },
  }),
  must({
    id: 'router.submission.unknown-recipient',
    description: 'A submission for an address with no directory line is refused with 404 recipient-unknown',
    requirements: ['TMB-SUB-004'],
    async run(ctx: AssertionContext) {
      const sender = await configuredSender(ctx)
      const recipientKey = await recipientKeyFor(ctx, ctx.address(0))
      const a = await sender.seal({ recipient: generateVaultAddress(), recipientKey })
      expectProblem(ctx, await submit(ctx, { envelope: a.envelope, content: a.content }), 'recipient-unknown')
    },
  }),
  must({
    id: 'router.submission.extra-member',
    description: 'A submission body with an unknown member is refused with 400 schema-violation',
    requirements: ['TMB-SUB-001'],
    async run(ctx: AssertionContext) {
      const a = await sealFor(ctx)
      expectProblem(ctx, await submit(ctx, { envelope: a.envelope, content: a.content, priority: 'urgent' }), 'schema-violation')
    },
  }),
  must({
    id: 'router.delivery.status',
    description: 'GET /v1/deliveries/{messageId} answers the status of an own delivery, and 404 not-found for an unknown id',
    requirements: ['TMB-SUB-011'],
    async run(ctx: AssertionContext) {
      const a = await sealFor(ctx)
      await accepted(ctx, await submit(ctx, { envelope: a.envelope, content: a.content }), a)
      const res = await getAsSender(ctx, `/v1/deliveries/${a.metadata.messageId}`)
      ctx.check(res.status === 200, `expected 200, got ${res.status}`)
      for (const m of ['messageId', 'status', 'final', 'updatedAt']) ctx.check(m in (res.json ?? {}), `member ${m} is missing`)
      expectProblem(ctx, await getAsSender(ctx, `/v1/deliveries/${uuidv7()}`), 'not-found')
    },
  }),
  must({
    id: 'router.delivery.evidence',
    description: 'GET /v1/deliveries/{messageId}/evidence lists the evidence as JWS strings, the stamp first',
    requirements: ['TMB-SUB-012'],
    async run(ctx: AssertionContext) {
      const a = await sealFor(ctx)
      const res0 = await submit(ctx, { envelope: a.envelope, content: a.content })
      await accepted(ctx, res0, a)
      const res = await getAsSender(ctx, `/v1/deliveries/${a.metadata.messageId}/evidence`)
      ctx.check(res.status === 200, `expected 200, got ${res.status}`)
      ctx.check(Array.isArray(res.json?.evidence) && res.json.evidence[0] === res0.json.stamp, 'the list does not start with the stamp')
    },
  }),
  must({
    id: 'router.delivery.requires-proof',
    description: 'GET /v1/deliveries/{messageId} without a proof is refused with 401 auth-required',
    requirements: ['TMB-AUTH-001', 'TMB-AUTH-003'],
    async run(ctx: AssertionContext) {
      expectProblem(ctx, await getAsSender(ctx, `/v1/deliveries/${uuidv7()}`, false), 'auth-required')
    },
  }),
]
