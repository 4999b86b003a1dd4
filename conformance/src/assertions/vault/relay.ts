import type { AssertionContext } from '../../runner/context.js'
/** Deposits, deduplication and recipients (TMB-RLY). */
import { generateVaultAddress, UUID_PATTERN, uuidv7 } from '@timbre/sdk'
import { defineAssertion } from '../assertion.js'
import { SimulatedSender } from '../../actors/sender.js'
import { expectProblem, checkRejectionEvidence } from '../problem.js'
import { postRelay, relayBody, validParts, expectDeposit, depositEvidenceErrors, routeFor, restamp, unroutableOnTarget } from '../relay-kit.js'
import type { AssertionContext as Ctx } from '../../runner/context.js'

/** A relay for an address the target never hosted, or INAPPLICABLE when no trusted route can exist for it. */
async function strangerRelay(ctx: Ctx) {
  const p = await validParts(ctx, { recipient: generateVaultAddress() })
  const res = await postRelay(ctx, relayBody(p))
  if (res.json?.code === 'stamp-invalid' && (await unroutableOnTarget(ctx, p.recipient))) {
    ctx.inapplicable("the target is its own directory and trusts only its own lines, so no route it accepts can name an address it never hosted; its route check (step 6) refuses first, as the spec's order requires")
  }
  return { p, res }
}

export const vaultRelayAssertions = [
  defineAssertion({
    id: 'vault.relay.accept',
    description: 'A valid relay is answered 201 with DepositAcceptance evidence signed with a key of the target JWKS and naming the message',
    requirements: ['TMB-RLY-001', 'TMB-RLY-015', 'TMB-RLY-016', 'TMB-ID-004', 'TMB-ID-009', 'TMB-TRUST-008', 'TMB-OVR-003', 'TMB-EVD-001', 'TMB-EVD-002', 'TMB-EVD-004', 'TMB-EVD-007', 'TMB-AUTH-002'],
    level: 'MUST',
    profile: 'vault-operator',
    async run(ctx: AssertionContext) {
      const t = await ctx.target()
      const p = await validParts(ctx)
      const res = await postRelay(ctx, relayBody(p))
      const { evidence } = await expectDeposit(ctx, res, p, [201])
      ctx.check(/^application\/json\b/i.test(res.headers['content-type'] ?? ''), `Content-Type is ${res.headers['content-type']}, expected application/json`)
      const errors = depositEvidenceErrors(evidence, p, t.operatorId)
      ctx.check(errors.length === 0, `DepositAcceptance: ${errors.join('; ')}`)
      for (const m of ['title', 'documentType', 'senderReference', 'content']) ctx.check(!(m in evidence), `the evidence carries ${m}, which EVD-007 forbids`)
      ctx.check(UUID_PATTERN.test(evidence.evidenceId) && evidence.evidenceId[14] === '7', `evidenceId ${evidence.evidenceId} is not a lowercase UUID v7`)
    },
  }),
  defineAssertion({
    id: 'vault.relay.repeat',
    description: 'Relaying the same document again (fresh proof) answers 200 with the original evidence, not a second deposit',
    requirements: ['TMB-RLY-008', 'TMB-RLY-007', 'TMB-AUTH-010'],
    level: 'MUST',
    profile: 'vault-operator',
    async run(ctx: AssertionContext) {
      const p = await validParts(ctx)
      const body = relayBody(p)
      const first = await expectDeposit(ctx, await postRelay(ctx, body), p, [201])
      const res = await postRelay(ctx, body)
      const again = await expectDeposit(ctx, res, p, [200, 201])
      ctx.check(again.evidence.evidenceId === first.evidence.evidenceId, `the repeat got new evidence ${again.evidence.evidenceId} instead of the original ${first.evidence.evidenceId}: the document was deposited twice`)
      ctx.check(res.status === 200, `the repeat was answered ${res.status}, RLY-008 requires 200`)
    },
  }),
  defineAssertion({
    id: 'vault.relay.restamped-repeat',
    description: 'A repeat of a deposited document under a new stamp still answers 200 with the original evidence',
    requirements: ['TMB-RLY-008', 'TMB-RLY-007'],
    level: 'MUST',
    profile: 'vault-operator',
    async run(ctx: AssertionContext) {
      const p = await validParts(ctx)
      const first = await expectDeposit(ctx, await postRelay(ctx, relayBody(p)), p, [201])
      const q = await restamp(ctx, p)
      const again = await expectDeposit(ctx, await postRelay(ctx, relayBody(q)), q, [200, 201])
      ctx.check(again.evidence.evidenceId === first.evidence.evidenceId, `the second relay got new evidence ${again.evidence.evidenceId}: the document was deposited twice`)
    },
  }),
  defineAssertion({
    id: 'vault.relay.message-id-conflict',
    description: 'Another document under an already deposited (sender, messageId) is refused with 409 message-id-conflict',
    requirements: ['TMB-RLY-009'],
    level: 'MUST',
    profile: 'vault-operator',
    async run(ctx: AssertionContext) {
      const messageId = uuidv7()
      const p = await validParts(ctx, { messageId })
      await expectDeposit(ctx, await postRelay(ctx, relayBody(p)), p, [201])
      const q = await validParts(ctx, { messageId, document: 'another document with the same message id\n' })
      expectProblem(ctx, await postRelay(ctx, relayBody(q)), 'message-id-conflict')
    },
  }),
  defineAssertion({
    id: 'vault.relay.sender-scope',
    description: 'The same messageId from two different senders yields two distinct deposits',
    requirements: ['TMB-ID-008'],
    level: 'MUST',
    profile: 'vault-operator',
    async run(ctx: AssertionContext) {
      const messageId = uuidv7()
      const a = await validParts(ctx, { messageId })
      const other = await SimulatedSender.create('0009:CONFORMANCE02')
      const b = await validParts(ctx, { messageId, sender: other })
      const ea = await expectDeposit(ctx, await postRelay(ctx, relayBody(a)), a, [201])
      const eb = await expectDeposit(ctx, await postRelay(ctx, relayBody(b)), b, [201])
      ctx.check(ea.evidence.evidenceId !== eb.evidence.evidenceId, 'both senders got the same evidence')
      ctx.check(eb.evidence.sender === other.id, `the second deposit names sender ${eb.evidence.sender}`)
    },
  }),
  defineAssertion({
    id: 'vault.relay.unknown-recipient',
    description: 'A relay for an address the target never hosted is refused with 404 recipient-unknown',
    requirements: ['TMB-RLY-010'],
    level: 'MUST',
    profile: 'vault-operator',
    async run(ctx: AssertionContext) {
      const { res } = await strangerRelay(ctx)
      expectProblem(ctx, res, 'recipient-unknown')
    },
  }),
  defineAssertion({
    id: 'vault.relay.rejection-evidence',
    description: 'A refusal at check 11 or later carries a signed DepositRejection whose reason.code is the problem code',
    requirements: ['TMB-RLY-017', 'TMB-EVD-003'],
    level: 'SHOULD',
    profile: 'vault-operator',
    async run(ctx: AssertionContext) {
      const { p, res } = await strangerRelay(ctx)
      const problem = expectProblem(ctx, res, 'recipient-unknown')
      const r = await checkRejectionEvidence(ctx, problem, p.sealed.metadata.messageId)
      if (r === 'absent') ctx.warn('the 404 recipient-unknown problem has no DepositRejection evidence')
    },
  }),
  defineAssertion({
    id: 'vault.relay.invalid-address',
    description: 'An envelope recipient of normal-form shape failing the check rule is refused with 400 invalid-vault-address',
    requirements: ['TMB-ADDR-004'],
    level: 'MUST',
    profile: 'vault-operator',
    async run(ctx: AssertionContext) {
      const good = ctx.address(0)
      const last = good[15] === '0' ? '1' : '0'
      const bad = good.slice(0, 15) + last
      const p = await validParts(ctx)
      const metadata = { ...p.sealed.metadata, recipient: bad }
      const sealed = { ...p.sealed, metadata, envelope: await p.sender.resign(metadata) }
      const q = await restamp(ctx, { ...p, sealed, route: await routeFor(ctx, bad) })
      expectProblem(ctx, await postRelay(ctx, relayBody(q)), 'invalid-vault-address')
    },
  }),
]
