/** Metering at a routing node (spec chapter 11), feature `metering`. */
import { decodeEvidence, uuidv7, verifyStatement, type SenderStatement } from '@timbre/sdk'
import { defineAssertion } from '../assertion.js'
import { expectProblem } from '../problem.js'
import { SimulatedSender } from '../../actors/sender.js'
import type { AssertionContext as Ctx } from '../../runner/context.js'
import { getAsSender, sealFor, submit } from '../router/kit.js'

const F = ['metering']

/** The price of a standard stamp from discovery (MTR-001). */
async function price(ctx: Ctx): Promise<{ amount: number; currency: string }> {
  const t = await ctx.target()
  const tariffs = t.discovery.tariffs
  const std = Array.isArray(tariffs) ? tariffs.find((x: any) => x?.stampClass === 'standard') : undefined
  if (!std) ctx.fail('the discovery document lists no tariff for the standard stamp class')
  return std
}

/** A fresh sender registered through the admin convenience, topped up by `topup` minor units. */
async function meteredSender(ctx: Ctx, topup: number): Promise<SimulatedSender> {
  if (!ctx.config.admin?.token) ctx.harness('metering assertions need admin.token: the suite registers fresh senders and tops them up (TMB-MTR-009: top-ups only through the admin API)')
  const s = await SimulatedSender.create(`0009:CONFMTR${Date.now().toString(36).toUpperCase()}${Math.floor(Math.random() * 1e4)}`)
  const headers = { authorization: `Bearer ${ctx.config.admin.token}`, 'content-type': 'application/json' }
  const r = await ctx.http.send(`${ctx.config.target}/v1/admin/senders`, { method: 'POST', headers, body: JSON.stringify({ id: s.id, jwk: s.publicKey }) })
  if (r.status !== 201) ctx.harness(`admin: register sender answered ${r.status} ${r.json?.code ?? ''}`)
  if (topup > 0) {
    const u = await ctx.http.send(`${ctx.config.target}/v1/admin/senders/${encodeURIComponent(s.id)}/topups`, { method: 'POST', headers, body: JSON.stringify({ amount: topup, reference: `conformance-topup-${uuidv7()}` }) })
    if (u.status !== 201) ctx.harness(`admin: top-up answered ${u.status} ${u.json?.code ?? ''} ${u.json?.detail ?? ''}`)
  }
  return s
}

async function ledger(ctx: Ctx, s: SimulatedSender): Promise<any[]> {
  const r = await getAsSender(ctx, '/v1/stamps/ledger', true, s)
  ctx.check(r.status === 200 && Array.isArray(r.json?.entries), `GET /v1/stamps/ledger answered ${r.status} without entries`)
  return r.json.entries
}

async function balance(ctx: Ctx, s: SimulatedSender): Promise<any> {
  const r = await getAsSender(ctx, '/v1/stamps/balance', true, s)
  ctx.check(r.status === 200, `GET /v1/stamps/balance answered ${r.status}`)
  for (const m of ['sender', 'currency', 'balance', 'creditLimit', 'available']) ctx.check(m in (r.json ?? {}), `the balance answer lacks ${m}`)
  return r.json
}

function previousMonth(): string {
  const d = new Date()
  const p = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1))
  return p.toISOString().slice(0, 7)
}

export const meteringAssertions = [
  defineAssertion({
    id: 'router.metering.tariffs',
    description: 'Discovery lists tariffs { stampClass, amount (non-negative integer, minor units), currency (ISO 4217) }',
    requirements: ['TMB-MTR-001'],
    level: 'MUST',
    profile: 'routing-node',
    features: F,
    async run(ctx: Ctx) {
      const t = await ctx.target()
      const tariffs = t.discovery.tariffs
      ctx.check(Array.isArray(tariffs) && tariffs.length > 0, 'a charging node lists no tariffs in discovery')
      const seen = new Set<string>()
      for (const x of tariffs) {
        ctx.check(typeof x?.stampClass === 'string' && !seen.has(x.stampClass), `bad or repeated stampClass ${JSON.stringify(x?.stampClass)}`)
        seen.add(x.stampClass)
        ctx.check(Number.isInteger(x.amount) && x.amount >= 0, `amount ${JSON.stringify(x.amount)} is not a non-negative integer`)
        ctx.check(typeof x.currency === 'string' && /^[A-Z]{3}$/.test(x.currency), `currency ${JSON.stringify(x.currency)} is not ISO 4217`)
      }
    },
  }),
  defineAssertion({
    id: 'router.metering.balance-exhausted',
    description: 'A submission the balance does not cover is answered 402 stamp-balance-exhausted and changes nothing: no delivery, no ledger entry, no idempotency record',
    requirements: ['TMB-MTR-007', 'TMB-MTR-006', 'TMB-MTR-010'],
    level: 'MUST',
    profile: 'routing-node',
    features: F,
    async run(ctx: Ctx) {
      const { amount } = await price(ctx)
      if (amount === 0) ctx.inapplicable('the standard stamp is free: no balance can be exhausted')
      const s = await meteredSender(ctx, 0)
      const b = await balance(ctx, s)
      if (b.available >= amount) ctx.inapplicable(`a new sender has ${b.available} available (credit limit), enough for a stamp`)
      const sealed = await sealFor(ctx, { sender: s })
      const key = uuidv7()
      const body = JSON.stringify({ envelope: sealed.envelope, content: sealed.content })
      expectProblem(ctx, await submit(ctx, body, { sender: s, idempotencyKey: key }), 'stamp-balance-exhausted')
      const d = await getAsSender(ctx, `/v1/deliveries/${sealed.metadata.messageId}`, true, s)
      ctx.check(d.status === 404, `after the 402 GET /v1/deliveries/{messageId} answered ${d.status}, expected 404 (no delivery)`)
      const entries = await ledger(ctx, s)
      ctx.check(entries.length === 0, `after the 402 the ledger has ${entries.length} entries`)
      const after = await balance(ctx, s)
      ctx.check(after.balance === b.balance, `the balance changed from ${b.balance} to ${after.balance}`)
      // Nothing was stored under the key: after a top-up the same request is accepted.
      const headers = { authorization: `Bearer ${ctx.config.admin!.token}`, 'content-type': 'application/json' }
      await ctx.http.send(`${ctx.config.target}/v1/admin/senders/${encodeURIComponent(s.id)}/topups`, { method: 'POST', headers, body: JSON.stringify({ amount, reference: `conformance-topup-${uuidv7()}` }) })
      const again = await submit(ctx, body, { sender: s, idempotencyKey: key })
      ctx.check(again.status === 202 && again.headers['idempotency-replayed'] !== 'true', `after a top-up the same key answered ${again.status}${again.json?.code ? ' ' + again.json.code : ''}: the 402 was stored as an idempotency record`)
    },
  }),
  defineAssertion({
    id: 'router.metering.charge',
    description: 'Each acceptance is one charge entry (messageId, evidenceId, sequence, balanceAfter); an idempotent replay charges nothing; the balance is the sum of the ledger',
    requirements: ['TMB-MTR-003', 'TMB-MTR-012', 'TMB-MTR-013', 'TMB-MTR-009', 'TMB-MTR-011'],
    level: 'MUST',
    profile: 'routing-node',
    features: F,
    async run(ctx: Ctx) {
      const { amount } = await price(ctx)
      const s = await meteredSender(ctx, amount * 5 + 100)
      const sealed = await sealFor(ctx, { sender: s })
      const key = uuidv7()
      const body = JSON.stringify({ envelope: sealed.envelope, content: sealed.content })
      const first = await submit(ctx, body, { sender: s, idempotencyKey: key })
      ctx.check(first.status === 202, `the submission answered ${first.status} ${first.json?.code ?? ''}`)
      const replay = await submit(ctx, body, { sender: s, idempotencyKey: key })
      ctx.check(replay.status === 202, `the idempotent replay answered ${replay.status}`)
      const stampEvidenceId = JSON.parse(Buffer.from(String(first.json.stamp).split('.')[1]!, 'base64url').toString()).evidenceId
      const entries = await ledger(ctx, s)
      const charges = entries.filter((e) => e.kind === 'charge')
      ctx.check(charges.length === 1, `${charges.length} charge entries for one acceptance and its idempotent replay, expected 1`)
      const c = charges[0]
      ctx.check(c.amount === -amount, `the charge amount is ${c.amount}, expected ${-amount}`)
      ctx.check(c.messageId === sealed.metadata.messageId, `the charge names messageId ${c.messageId}`)
      ctx.check(c.evidenceId === stampEvidenceId, `the charge names evidenceId ${c.evidenceId}, expected the stamp ${stampEvidenceId}`)
      const topups = entries.filter((e) => e.kind === 'topup')
      ctx.check(topups.length === 1 && typeof topups[0].reference === 'string', 'the top-up is not one ledger entry with its reference')
      let sum = 0
      entries.forEach((e, i) => {
        sum += e.amount
        if (i > 0) ctx.check(e.sequence === entries[i - 1].sequence + 1, `ledger sequence ${entries[i - 1].sequence} is followed by ${e.sequence}`)
        ctx.check(e.balanceAfter === sum, `entry ${e.sequence} has balanceAfter ${e.balanceAfter}, the running sum is ${sum}`)
      })
      const b = await balance(ctx, s)
      ctx.check(b.balance === sum, `the balance ${b.balance} is not the sum of the ledger ${sum}`)
      // Entries are never rewritten: listing again gives the same entries.
      const again = await ledger(ctx, s)
      ctx.check(JSON.stringify(again) === JSON.stringify(entries), 'the ledger changed between two reads without any new request')
    },
  }),
  defineAssertion({
    id: 'router.metering.unsold-class',
    description: 'A submission for a stamp class the node does not list in its tariffs is refused with 400 schema-violation and not charged',
    requirements: ['TMB-MTR-002'],
    level: 'MUST',
    profile: 'routing-node',
    features: F,
    async run(ctx: Ctx) {
      const t = await ctx.target()
      const sold = new Set((Array.isArray(t.discovery.tariffs) ? t.discovery.tariffs : []).map((x: any) => x?.stampClass))
      const unsold = ['registered', 'standard'].find((c) => !sold.has(c))
      if (!unsold) ctx.inapplicable('the node sells both stamp classes')
      const { amount } = await price(ctx)
      const s = await meteredSender(ctx, amount * 3 + 100)
      const sealed = await sealFor(ctx, { sender: s })
      expectProblem(ctx, await submit(ctx, { envelope: sealed.envelope, content: sealed.content, stampClass: unsold }, { sender: s }), 'schema-violation')
      const entries = await ledger(ctx, s)
      ctx.check(!entries.some((e) => e.kind === 'charge'), 'the refused submission was charged')
    },
  }),
  defineAssertion({
    id: 'router.metering.registered-refund',
    description: "A registered delivery deposited by the suite's vault, whose discovery document does not announce handover, is charged the registered price and refunded once the difference to the standard price, the refund naming the DepositAcceptance; the balance stays the sum of the ledger",
    requirements: ['TMB-MTR-005', 'TMB-MTR-012', 'TMB-MTR-013'],
    level: 'MUST',
    profile: 'routing-node',
    features: F,
    async run(ctx: Ctx) {
      const t = await ctx.target()
      const tariffs: any[] = Array.isArray(t.discovery.tariffs) ? t.discovery.tariffs : []
      const std = tariffs.find((x) => x?.stampClass === 'standard')
      const reg = tariffs.find((x) => x?.stampClass === 'registered')
      if (!std || !reg) ctx.inapplicable('the node does not sell both the standard and the registered class')
      if (!(reg.amount > std.amount)) ctx.inapplicable(`the registered stamp (${reg.amount}) costs no more than the standard one (${std.amount}): there is no difference to refund`)
      const v = ctx.suiteVault()
      const s = await meteredSender(ctx, reg.amount * 2 + 100)
      const sealed = await sealFor(ctx, { sender: s, recipient: ctx.address(0) })
      const res = await submit(ctx, { envelope: sealed.envelope, content: sealed.content, stampClass: 'registered' }, { sender: s })
      ctx.check(res.status === 202, `the registered submission answered ${res.status} ${res.json?.code ?? ''}`)
      const messageId = sealed.metadata.messageId
      const deadline = Date.now() + 20_000
      let status: string | undefined
      for (;;) {
        const d = await getAsSender(ctx, `/v1/deliveries/${messageId}`, true, s)
        status = d.json?.status
        if (status === 'delivered' || Date.now() > deadline) break
        await new Promise((r) => setTimeout(r, 150))
      }
      ctx.check(status === 'delivered', `the registered delivery is ${status} after 20 s, expected delivered`)
      const ev = await getAsSender(ctx, `/v1/deliveries/${messageId}/evidence`, true, s)
      const deposit = (Array.isArray(ev.json?.evidence) ? (ev.json.evidence as string[]) : []).map((j) => decodeEvidence(j)).find((e) => e.event === 'DepositAcceptance' && e.issuer === v.operatorId)
      if (!deposit) ctx.fail(`the evidence of the delivery has no DepositAcceptance by ${v.operatorId}`)
      const entries = await ledger(ctx, s)
      const mine = entries.filter((e) => e.messageId === messageId)
      const charges = mine.filter((e) => e.kind === 'charge')
      const refunds = mine.filter((e) => e.kind === 'refund')
      ctx.check(charges.length === 1 && charges[0].amount === -reg.amount, `expected one charge of ${-reg.amount}, found ${JSON.stringify(charges.map((e) => e.amount))}`)
      ctx.check(refunds.length === 1, `expected exactly one refund of the registered difference (the suite vault announces no handover), found ${refunds.length}`)
      const r = refunds[0]
      ctx.check(r.amount === reg.amount - std.amount, `the refund is ${r.amount}, expected ${reg.amount} − ${std.amount} = ${reg.amount - std.amount}`)
      ctx.check(r.evidenceId === deposit.evidenceId, `the refund names evidenceId ${r.evidenceId}, expected the DepositAcceptance ${deposit.evidenceId}`)
      ctx.check(typeof r.reason === 'string' && r.reason.length > 0, 'the refund has no reason')
      const b = await balance(ctx, s)
      const sum = entries.reduce((a, e) => a + e.amount, 0)
      ctx.check(b.balance === sum, `the balance ${b.balance} is not the sum of the ledger ${sum}`)
    },
  }),
  defineAssertion({
    id: 'router.metering.statement',
    description: 'The monthly statement of a closed month is a statement JWS verifiable with the target JWKS (verifyStatement), and is served as CSV for Accept: text/csv',
    requirements: ['TMB-MTR-014', 'TMB-MTR-015'],
    level: 'MUST',
    profile: 'routing-node',
    features: F,
    async run(ctx: Ctx) {
      const t = await ctx.target()
      const s = await meteredSender(ctx, 0)
      const period = previousMonth()
      const r = await getAsSender(ctx, `/v1/stamps/statements/${period}`, true, s)
      ctx.check(r.status === 200 && typeof r.json?.statement === 'string', `GET statement answered ${r.status} without a statement`)
      let st: SenderStatement
      try {
        st = await verifyStatement<SenderStatement>(r.json.statement, t.keys, { kind: 'sender-statement', sender: s.id, period, issuer: t.operatorId })
      } catch (err) {
        ctx.fail(`the statement does not verify: ${(err as Error).message}`)
      }
      ctx.check(st.closingBalance === st.openingBalance, `a month without entries closes at ${st.closingBalance}, opened at ${st.openingBalance}`)
      const t2 = await ctx.target()
      const url = new URL(`/v1/stamps/statements/${period}`, t2.endpoint('submissions', '/v1/submissions'))
      const { createRequestProof } = await import('@timbre/sdk')
      const authorization = await createRequestProof({ key: s.key, iss: s.id, aud: t.operatorId, method: 'GET', path: url.pathname })
      const csv = await ctx.http.send(url.toString(), { headers: { authorization, accept: 'text/csv' } })
      ctx.check(csv.status === 200 && /^text\/csv\b/i.test(csv.headers['content-type'] ?? ''), `the CSV statement answered ${csv.status} ${csv.headers['content-type']}`)
      ctx.check(csv.text.trim().length > 0, 'the CSV statement is empty')
    },
  }),
]
