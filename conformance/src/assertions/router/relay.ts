/**
 * What a routing node does after acceptance, observed through the suite's
 * simulated vault operator behind it (spec 6.4-6.5, 7, 9.5, 10): the relay
 * it sends, the evidence chain it keeps, retries, final refusals,
 * recipient-moved and re-routes, webhooks and evidence pushes.
 */
import {
  createRequestProof,
  decodeEvidence,
  generateEncryptionKey,
  jwkThumbprint,
  schemaValidator,
  signEvidence,
  tokenDigest,
  toPublicJwk,
  uuidv7,
  verifyDirectoryLine,
  verifyEvidence,
  verifyStamp,
  verifyWebhookSignature,
  type Evidence,
} from '@timbre/sdk'
import { defineAssertion, type Assertion } from '../assertion.js'
import { expectProblem } from '../problem.js'
import { tamperSignature } from '../../actors/jws.js'
import type { RecordedRelay, RecordedWebhook } from '../../actors/vault.js'
import type { AssertionContext } from '../../runner/context.js'
import { configuredSender, evidenceOf, getAsSender, reroute, sealFor, submit, waitForStatus } from './kit.js'

function must(a: Omit<Assertion, 'level' | 'profile'>): Assertion {
  return defineAssertion({ ...a, level: 'MUST', profile: 'routing-node' })
}

/** Submit a fresh document for `recipient`; returns the sealed envelope and the verified stamp. */
async function deliver(ctx: AssertionContext, recipient: string, o: { title?: string; senderReference?: string; document?: string } = {}) {
  const t = await ctx.target()
  const sealed = await sealFor(ctx, { recipient, ...o })
  const res = await submit(ctx, { envelope: sealed.envelope, content: sealed.content })
  if (res.status !== 202) ctx.fail(`the submission was answered ${res.status}${res.json?.code ? ' ' + res.json.code : ''}, expected 202`)
  const stamp = await verifyStamp(res.json.stamp, t.keys, { messageId: sealed.metadata.messageId, issuer: t.operatorId })
  return { sealed, stampJws: res.json.stamp as string, stamp, messageId: sealed.metadata.messageId }
}

async function relaysOf(ctx: AssertionContext, messageId: string, n: number, ms = 20_000): Promise<RecordedRelay[]> {
  const v = ctx.suiteVault()
  const got = await v.waitFor(() => (v.relaysFor(messageId).length >= n ? v.relaysFor(messageId) : undefined), ms)
  if (!got) ctx.fail(`the suite's vault received ${v.relaysFor(messageId).length} relay(s) of the message within ${ms} ms, expected ${n}`)
  return got
}

/** Verify every evidence of a delivery offline (7.5) with the node's and the vault's keys. */
async function verifiedChain(ctx: AssertionContext, messageId: string): Promise<Array<{ jws: string; ev: Evidence }>> {
  const t = await ctx.target()
  const v = ctx.suiteVault()
  const list = await evidenceOf(ctx, messageId)
  const out: Array<{ jws: string; ev: Evidence }> = []
  for (const jws of list) {
    const issuer = decodeEvidence(jws).issuer
    const keys = issuer === t.operatorId ? t.keys : issuer === v.operatorId ? v.jwks : undefined
    if (!keys) ctx.fail(`the evidence list holds an evidence by ${issuer}, neither the node nor the vault`)
    try {
      out.push({ jws, ev: await verifyEvidence(jws, keys, { messageId, issuer }) })
    } catch (err) {
      ctx.fail(`an evidence of the list (${decodeEvidence(jws).event}) does not verify offline: ${(err as Error).message}`)
    }
  }
  return out
}

const webhookValidator = () => schemaValidator('webhook-payload.json')

export const routerRelayAssertions: Assertion[] = [
  must({
    id: 'router.relay.carries',
    description: 'The relay carries the envelope and content byte for byte, the stamp of that envelope, the sender key of the stamp and the line of the directory, to the line relayEndpoint, without any sender action',
    requirements: ['TMB-RLY-021', 'TMB-RLY-022', 'TMB-ENV-016', 'TMB-SUB-010', 'TMB-DIR-007', 'TMB-DIR-023'],
    async run(ctx: AssertionContext) {
      const t = await ctx.target()
      const sender = await configuredSender(ctx)
      const d = await deliver(ctx, ctx.address(0))
      const [r] = await relaysOf(ctx, d.messageId, 1)
      const b = r!.body
      ctx.check(b?.envelope === d.sealed.envelope, 'the relayed envelope differs from the submitted one')
      ctx.check(b?.content === d.sealed.content, 'the relayed content differs from the submitted one')
      ctx.check(b?.stamp === d.stampJws, 'the relayed stamp is not the SubmissionAcceptance the sender received')
      ctx.check(b?.senderKey?.x === sender.publicKey.x && (await jwkThumbprint(b.senderKey)) === d.stamp.senderKid, "senderKey is not the public key of the stamp's senderKid")
      ctx.check(!('d' in (b?.senderKey ?? {})), 'senderKey carries a private member')
      let line
      try {
        line = await verifyDirectoryLine(b.route, t.keys)
      } catch (err) {
        ctx.fail(`the route does not verify as a line of the node's directory: ${(err as Error).message}`)
      }
      ctx.check(line.address === d.sealed.metadata.recipient, `the route is for ${line.address}`)
      ctx.check(line.relayEndpoint === ctx.suiteVault().relayEndpoint, `the route names ${line.relayEndpoint}, not the vault's relay endpoint`)
      ctx.check(r!.status === 201, `the suite's vault refused the relay with ${r!.status} ${r!.response?.code ?? ''} ${r!.response?.detail ?? ''}`)
    },
  }),
  must({
    id: 'router.relay.delivered',
    description: "After the vault's 201 the delivery is delivered, with stamp, DepositAcceptance and a RelayAcceptance chained to it, all verifiable offline",
    requirements: ['TMB-RLY-024', 'TMB-RLY-025', 'TMB-EVD-006', 'TMB-EVD-008', 'TMB-EVD-010', 'TMB-EVD-011', 'TMB-SUB-012'],
    async run(ctx: AssertionContext) {
      const t = await ctx.target()
      const v = ctx.suiteVault()
      const d = await deliver(ctx, ctx.address(0))
      const [r] = await relaysOf(ctx, d.messageId, 1)
      const status = await waitForStatus(ctx, d.messageId, ['delivered', 'rejected', 'failed'])
      ctx.check(status.status === 'delivered' && status.final === true, `the delivery ended ${status.status} (final ${status.final})`)
      const chain = await verifiedChain(ctx, d.messageId)
      const events = chain.map((c) => c.ev.event)
      ctx.check(chain[0]?.jws === d.stampJws, 'the list does not start with the stamp')
      const deposit = chain.find((c) => c.ev.event === 'DepositAcceptance')
      ctx.check(deposit && deposit.jws === r!.response?.evidence, `the vault's DepositAcceptance is not listed as returned (events ${events.join(', ')})`)
      const acc = chain.filter((c) => c.ev.event === 'RelayAcceptance')
      ctx.check(acc.length === 1, `${acc.length} RelayAcceptance evidences, expected one`)
      const ra = acc[0]!.ev
      ctx.check(ra.issuer === t.operatorId, `RelayAcceptance issuer is ${ra.issuer}`)
      ctx.check(ra.recipientOperator === v.operatorId, `RelayAcceptance recipientOperator is ${ra.recipientOperator}, expected ${v.operatorId}`)
      ctx.check(ra.previousEvidenceId === deposit.ev.evidenceId, "RelayAcceptance previousEvidenceId is not the vault's evidence id")
      ctx.check(!events.some((e) => e === 'RelayRejection' || e === 'RelayFailure'), `a delivered delivery also has ${events.join(', ')}`)
    },
  }),
  must({
    id: 'router.relay.retry-after',
    description: 'A 503 with Retry-After: 1 is retried no sooner than one second later, with the same envelope, content, stamp, sender key and a new proof, and then delivered',
    requirements: ['TMB-RTY-001', 'TMB-RTY-002', 'TMB-RTY-004', 'TMB-RTY-007'],
    async run(ctx: AssertionContext) {
      const d = await deliver(ctx, ctx.scenario('unavailable-once'))
      const [a, b] = await relaysOf(ctx, d.messageId, 2)
      ctx.check(a!.status === 503, `the first attempt was answered ${a!.status}`)
      ctx.check(b!.at - a!.at >= 950, `the retry came ${b!.at - a!.at} ms after a 503 with Retry-After: 1`)
      for (const m of ['envelope', 'content', 'stamp']) ctx.check(a!.body[m] === b!.body[m], `the retry changed ${m}`)
      ctx.check(JSON.stringify(a!.body.senderKey) === JSON.stringify(b!.body.senderKey), 'the retry changed senderKey')
      ctx.check(a!.headers.authorization !== b!.headers.authorization, 'the retry reused the request proof')
      await waitForStatus(ctx, d.messageId, ['delivered'])
      ctx.check(ctx.suiteVault().relaysFor(d.messageId).length === 2, 'more attempts than needed were made')
    },
  }),
  must({
    id: 'router.relay.unverifiable-evidence',
    description: 'A 201 whose evidence does not verify is not recorded as delivered: the node retries and lists only verified evidence',
    requirements: ['TMB-RLY-024', 'TMB-RTY-001'],
    async run(ctx: AssertionContext) {
      const d = await deliver(ctx, ctx.scenario('bad-evidence-once'))
      const [a] = await relaysOf(ctx, d.messageId, 2, 25_000)
      await waitForStatus(ctx, d.messageId, ['delivered'])
      const list = await evidenceOf(ctx, d.messageId)
      ctx.check(!list.includes(a!.response?.evidence), 'the unverifiable evidence of the first answer is listed')
      await verifiedChain(ctx, d.messageId)
    },
  }),
  must({
    id: 'router.relay.rejected',
    description: 'A final 404 refusal is not retried; the node keeps the DepositRejection, issues one RelayRejection with the problem code and sets the final status rejected',
    requirements: ['TMB-RLY-026', 'TMB-RLY-027', 'TMB-EVD-008', 'TMB-EVD-009', 'TMB-RTY-001'],
    async run(ctx: AssertionContext) {
      const d = await deliver(ctx, ctx.scenario('reject'))
      const [r] = await relaysOf(ctx, d.messageId, 1)
      const status = await waitForStatus(ctx, d.messageId, ['rejected', 'delivered', 'failed'])
      ctx.check(status.status === 'rejected' && status.final === true, `the delivery ended ${status.status}`)
      const chain = await verifiedChain(ctx, d.messageId)
      ctx.check(chain.some((c) => c.jws === r!.response?.evidence), "the vault's DepositRejection is not listed")
      const rej = chain.filter((c) => c.ev.event === 'RelayRejection')
      ctx.check(rej.length === 1, `${rej.length} RelayRejection evidences, expected one`)
      ctx.check(rej[0]!.ev.reason?.code === 'recipient-unknown', `RelayRejection reason.code is ${rej[0]!.ev.reason?.code}`)
      ctx.check(!chain.some((c) => c.ev.event === 'RelayAcceptance' || c.ev.event === 'RelayFailure'), 'a second final evidence was issued')
      await new Promise((res) => setTimeout(res, 1500))
      ctx.check(ctx.suiteVault().relaysFor(d.messageId).length === 1, 'a final 404 was retried')
    },
  }),
  must({
    id: 'router.reroute.flow',
    description: '409 recipient-moved sets rerouting with a RelayRejection (recipient-moved) and a webhook; a re-route with other metadata is 409, the same metadata is accepted with a chained stamp and delivered',
    requirements: ['TMB-PORT-024', 'TMB-PORT-025', 'TMB-PORT-026', 'TMB-PORT-027', 'TMB-EVD-010'],
    async run(ctx: AssertionContext) {
      const t = await ctx.target()
      const recipient = ctx.scenario('moved-once')
      const fixed = { title: 'Conformance re-route', senderReference: `CONF-RR-${uuidv7().slice(-8)}`, document: `Re-routed document ${uuidv7()}\n` }
      const d = await deliver(ctx, recipient, fixed)
      const status = await waitForStatus(ctx, d.messageId, ['rerouting', 'delivered', 'rejected', 'failed'])
      ctx.check(status.status === 'rerouting' && status.final === false, `after recipient-moved the delivery is ${status.status} (final ${status.final})`)
      const chain = await verifiedChain(ctx, d.messageId)
      const rej = chain.find((c) => c.ev.event === 'RelayRejection')
      ctx.check(rej?.ev.reason?.code === 'recipient-moved', 'no RelayRejection with reason recipient-moved')
      const other = await sealFor(ctx, { recipient, messageId: d.messageId, ...fixed, title: 'Another title' })
      expectProblem(ctx, await reroute(ctx, d.messageId, { envelope: other.envelope, content: other.content }), 'message-id-conflict')
      const same = await sealFor(ctx, { recipient, messageId: d.messageId, ...fixed, issueDate: d.sealed.metadata.issueDate })
      const res = await reroute(ctx, d.messageId, { envelope: same.envelope, content: same.content })
      ctx.check(res.status === 202, `the re-route was answered ${res.status} ${res.json?.code ?? ''} ${res.json?.detail ?? ''}`)
      ctx.check(res.json?.messageId === d.messageId && res.json?.status === 'accepted', `the answer is ${JSON.stringify(res.json)}`)
      const stamp = await verifyStamp(res.json.stamp, t.keys, { messageId: d.messageId, envelopeDigest: tokenDigest(same.envelope), issuer: t.operatorId })
      ctx.check(stamp.previousEvidenceId === rej.ev.evidenceId, 'the new stamp does not chain to the RelayRejection')
      ctx.check(stamp.stampClass === d.stamp.stampClass, `the new stamp has class ${stamp.stampClass}, the original ${d.stamp.stampClass}`)
      ctx.check(stamp.recipientOperator === ctx.suiteVault().operatorId, `the new stamp names recipientOperator ${stamp.recipientOperator}`)
      const relays = await relaysOf(ctx, d.messageId, 2)
      ctx.check(relays[1]!.body.envelope === same.envelope && relays[1]!.body.stamp === res.json.stamp, 'the re-routed envelope was not relayed with its new stamp')
      await waitForStatus(ctx, d.messageId, ['delivered'])
    },
  }),
  must({
    id: 'router.reroute.refusals',
    description: 'A re-route of an unknown messageId is 404 not-found; of a delivery that is not rerouting, 409 message-id-conflict',
    requirements: ['TMB-PORT-026'],
    async run(ctx: AssertionContext) {
      const unknown = await sealFor(ctx)
      expectProblem(ctx, await reroute(ctx, unknown.metadata.messageId, { envelope: unknown.envelope, content: unknown.content }), 'not-found')
      const d = await deliver(ctx, ctx.address(1))
      await waitForStatus(ctx, d.messageId, ['delivered'])
      expectProblem(ctx, await reroute(ctx, d.messageId, { envelope: d.sealed.envelope, content: d.sealed.content }), 'message-id-conflict')
    },
  }),
  must({
    id: 'router.webhook.signed',
    description: "Every status change is sent to the sender's webhook with webhook-id = the evidence id, a valid Standard Webhooks v1a signature by a key of the node JWKS, and a body matching webhook-payload.json",
    requirements: ['TMB-EVD-017', 'TMB-SUB-010'],
    async run(ctx: AssertionContext) {
      const t = await ctx.target()
      const v = ctx.suiteVault()
      const d = await deliver(ctx, ctx.address(0))
      await waitForStatus(ctx, d.messageId, ['delivered'])
      const chain = await verifiedChain(ctx, d.messageId)
      const ra = chain.find((c) => c.ev.event === 'RelayAcceptance')!.ev
      const hook = await v.waitFor<RecordedWebhook>(() => v.webhooks.find((w) => w.body?.messageId === d.messageId && w.body?.status === 'delivered'), 15_000)
      if (!hook) ctx.fail(`no webhook for the delivered status arrived within 15 s (${v.webhooks.length} webhooks received in all)`)
      ctx.check(hook.headers['webhook-id'] === ra.evidenceId, `webhook-id is ${hook.headers['webhook-id']}, the RelayAcceptance is ${ra.evidenceId}`)
      try {
        verifyWebhookSignature({ headers: hook.headers, body: hook.raw, keys: t.jwks.keys })
      } catch (err) {
        ctx.fail(`the webhook signature does not verify with the node's JWKS: ${(err as Error).message}`)
      }
      const payload: any = hook.body
      const validate = webhookValidator()
      if (!validate(JSON.parse(hook.raw))) ctx.fail(`the webhook body does not match webhook-payload.json: ${(validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`).join('; ')}`)
      ctx.check(payload.evidence === chain.find((c) => c.ev.event === 'RelayAcceptance')!.jws, 'the webhook does not carry the RelayAcceptance')
    },
  }),
  must({
    id: 'router.evidence.push',
    description: 'POST /v1/evidence by the vault operator attaches a verified evidence (202), answers 404 for an unknown delivery and 400 schema-violation for an invalid evidence or one about another envelope',
    requirements: ['TMB-EVD-014', 'TMB-EVD-021'],
    async run(ctx: AssertionContext) {
      const t = await ctx.target()
      const v = ctx.suiteVault()
      const d = await deliver(ctx, ctx.address(0))
      await waitForStatus(ctx, d.messageId, ['delivered'])
      const m = d.sealed.metadata
      const url = t.endpoint('evidence', '/v1/evidence')
      const push = async (evidence: string) => {
        const body = JSON.stringify({ evidence })
        const authorization = await createRequestProof({ key: v.signingKey, iss: v.operatorId, aud: t.operatorId, method: 'POST', path: new URL(url).pathname, body })
        return ctx.http.send(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body })
      }
      const handover = (messageId: string, envelopeDigest = tokenDigest(d.sealed.envelope)) =>
        signEvidence(
          { event: 'Handover', issuer: v.operatorId, messageId, sender: m.sender, recipient: m.recipient, contentDigest: m.content.digest, envelopeDigest, senderKid: d.stamp.senderKid, recipientOperator: v.operatorId, previousEvidenceId: d.stamp.evidenceId } as any,
          v.signingKey,
        )
      const h = await handover(d.messageId)
      const ok = await push(h.jws)
      ctx.check(ok.status === 202, `a valid Handover push was answered ${ok.status} ${ok.json?.code ?? ''} ${ok.json?.detail ?? ''}`)
      ctx.check((await evidenceOf(ctx, d.messageId)).includes(h.jws), 'the pushed evidence is not listed with the delivery')
      expectProblem(ctx, await push((await handover(uuidv7())).jws), 'not-found')
      expectProblem(ctx, await push(tamperSignature((await handover(d.messageId)).jws)), ['schema-violation', 'evidence-invalid'])
      // TMB-EVD-021: a well-signed evidence that names another envelope is not attached.
      const other = await handover(d.messageId, tokenDigest(`${d.sealed.envelope}x`))
      expectProblem(ctx, await push(other.jws), 'schema-violation')
      ctx.check(!(await evidenceOf(ctx, d.messageId)).includes(other.jws), 'an evidence about another envelope was attached')
    },
  }),
  must({
    id: 'router.submission.recipient-kid',
    description: "An envelope encrypted for a key that is not in the line's encryptionKeys is refused with 409 recipient-moved carrying operator and line",
    requirements: ['TMB-SUB-005'],
    async run(ctx: AssertionContext) {
      const t = await ctx.target()
      const stranger = toPublicJwk(await generateEncryptionKey())
      const a = await sealFor(ctx, { recipientKey: stranger })
      const p = expectProblem(ctx, await submit(ctx, { envelope: a.envelope, content: a.content }), 'recipient-moved')
      ctx.check(typeof p.operator === 'string', 'the problem has no operator member')
      let line
      try {
        line = await verifyDirectoryLine(p.line, t.keys)
      } catch (err) {
        ctx.fail(`the problem's line does not verify: ${(err as Error).message}`)
      }
      ctx.check(line.address === a.metadata.recipient && line.operator === p.operator, 'the line is not the recipient line of that operator')
    },
  }),
  must({
    id: 'router.idempotency.refused-message-id',
    description: 'A messageId whose only submission was refused is processed normally on a later submission',
    requirements: ['TMB-IDEM-012'],
    async run(ctx: AssertionContext) {
      const messageId = uuidv7()
      const a = await sealFor(ctx, { messageId })
      const b = await sealFor(ctx)
      expectProblem(ctx, await submit(ctx, { envelope: a.envelope, content: b.content }), 'content-digest-mismatch')
      const res = await submit(ctx, { envelope: a.envelope, content: a.content })
      ctx.check(res.status === 202, `the later valid submission was answered ${res.status} ${res.json?.code ?? ''}`)
    },
  }),
  must({
    id: 'router.delivery.foreign',
    description: "Another registered sender asking for a delivery's status or evidence, or re-using its messageId and Idempotency-Key, learns nothing of it",
    requirements: ['TMB-SUB-013', 'TMB-IDEM-002'],
    async run(ctx: AssertionContext) {
      const other = ctx.state.otherSender
      if (!other) ctx.harness('a second registered test sender is needed: set admin.token so the suite can register one')
      const key = uuidv7()
      const d = await sealFor(ctx, {})
      const mine = await submit(ctx, { envelope: d.envelope, content: d.content }, { idempotencyKey: key })
      ctx.check(mine.status === 202, `the submission was answered ${mine.status}`)
      for (const path of [`/v1/deliveries/${d.metadata.messageId}`, `/v1/deliveries/${d.metadata.messageId}/evidence`]) {
        expectProblem(ctx, await getAsSender(ctx, path, true, other), 'not-found')
      }
      // The same messageId and Idempotency-Key under the other sender: an unrelated, new submission.
      const theirs = await sealFor(ctx, { sender: other, messageId: d.metadata.messageId })
      const res = await submit(ctx, { envelope: theirs.envelope, content: theirs.content }, { idempotencyKey: key, sender: other })
      ctx.check(res.status === 202 && res.headers['idempotency-replayed'] !== 'true', `the other sender's submission was answered ${res.status} ${res.json?.code ?? ''}`)
      ctx.check(res.json?.stamp !== mine.json?.stamp, "the other sender got the first sender's stamp")
    },
  }),
  must({
    id: 'router.auth.sender-id-bytes',
    description: 'A proof by the sender id in another letter case is not the registered sender (403 sender-unknown)',
    requirements: ['TMB-ID-002'],
    async run(ctx: AssertionContext) {
      const t = await ctx.target()
      const me = await configuredSender(ctx)
      const other = me.id.toLowerCase() === me.id ? me.id.toUpperCase() : me.id.toLowerCase()
      const url = new URL(`/v1/deliveries/${uuidv7()}`, t.endpoint('submissions', '/v1/submissions'))
      const authorization = await createRequestProof({ key: me.key, iss: other, aud: t.operatorId, method: 'GET', path: url.pathname })
      expectProblem(ctx, await ctx.http.send(url.toString(), { headers: { authorization } }), 'sender-unknown')
    },
  }),
]
