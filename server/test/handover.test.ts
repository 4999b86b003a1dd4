// The `registered` stamp class end to end (spec 7.6, 11.1, 11.2, 13.2), over
// real HTTP with three nodes: A plays routing node + directory and charges
// (standard 10, registered 30); B is a vault operator that issues Handover
// (feature `handover`); C is a vault operator with Handover off. The person
// opens documents through the operator-local admin endpoint.
//
// - registered → B: the first open issues a Handover signed by B, kept with
//   the document's evidence, pushed to A (POST /v1/evidence) and attached to
//   the delivery after its DepositAcceptance; the status stays `delivered`;
//   no refund (TMB-EVD-014/015, TMB-MTR-005).
// - registered → C: exactly one refund of 30 − 10 pointing to C's
//   DepositAcceptance, reason handover-unsupported; balance = sum of ledger.
// - standard → B: no Handover.
// - the push is queued with the Handover and survives a restart of the vault.
import t, { type Test } from 'tap'
import {
  createRequestProof,
  decodeEvidence,
  generateSigningKey,
  sealEnvelope,
  toPublicJwk,
  uuidv7,
  verifyEvidence,
  type Evidence,
} from '@timbre/sdk'
import { startNode, type RunningNode } from '../src/node.js'
import { testStore } from './helpers/db.js'
import { testConfig } from './helpers/node.js'
import { call } from './helpers/http.js'
import { startTestNode } from './helpers/node.js'
import { until } from './helpers/routing.js'
import { FAST_DELIVERY } from './routing-setup.js'

const METERING = { currency: 'EUR', tariffs: { standard: 10, registered: 30 }, terminationFees: {} }

const a = await startTestNode(t, { overrides: { nodeId: 'router-a', roles: ['routing-node', 'directory'], metering: METERING, delivery: FAST_DELIVERY } })
const vaultNode = (nodeId: string, handover: 'registered' | 'off') =>
  startTestNode(t, { overrides: { nodeId, roles: ['vault-operator'], directoryUrl: a.url, delivery: FAST_DELIVERY, vault: { handover } } })
const b = await vaultNode('vault-b', 'registered')
const c = await vaultNode('vault-c', 'off')

async function admitVault(node: RunningNode): Promise<string> {
  const jwks = (await call(node.url, 'GET', '/.well-known/jwks.json')).json
  const admitted = await call(a.url, 'POST', '/v1/admin/operators', { admin: true, body: { id: node.config.nodeId, roles: ['vault-operator'], baseUrl: node.url, jwks } })
  if (admitted.status !== 201) throw new Error(admitted.text)
  const opened = await call(node.url, 'POST', '/v1/admin/vault-addresses', { admin: true, body: {} })
  if (opened.status !== 201) throw new Error(opened.text)
  return opened.json.address
}
const addressB = await admitVault(b)
const addressC = await admitVault(c)

const senderKey = await generateSigningKey()
const SENDER = `0009:HND${Date.now().toString(36).toUpperCase()}`
{
  const r = await call(a.url, 'POST', '/v1/admin/senders', { admin: true, body: { id: SENDER, jwk: toPublicJwk(senderKey) } })
  if (r.status !== 201) throw new Error(r.text)
  const u = await call(a.url, 'POST', `/v1/admin/senders/${encodeURIComponent(SENDER)}/topups`, { admin: true, body: { amount: 1000, reference: 'handover test top-up' } })
  if (u.status !== 201) throw new Error(u.text)
}

async function submit(address: string, stampClass: 'standard' | 'registered', document = `document for ${address}`) {
  const resolved = (await a.directory.lookup(address))!
  const sealed = await sealEnvelope({
    sender: SENDER,
    recipient: address,
    documentType: 'payslip',
    title: 'Payslip',
    mediaType: 'text/plain',
    document,
    senderKey,
    recipientKey: resolved.line.encryptionKeys[0]!,
  })
  const body = JSON.stringify({ envelope: sealed.envelope, content: sealed.content, stampClass })
  const authorization = await createRequestProof({ key: senderKey, iss: SENDER, aud: 'router-a', method: 'POST', path: '/v1/submissions', body })
  const res = await call(a.url, 'POST', '/v1/submissions', { body, headers: { 'content-type': 'application/json', authorization, 'idempotency-key': uuidv7() } })
  if (res.status !== 202) throw new Error(`submission answered ${res.status} ${res.text}`)
  return { messageId: sealed.metadata.messageId, stamp: decodeEvidence(res.json.stamp) }
}

const status = async (messageId: string) =>
  (await a.store.db.selectFrom('deliveries').select('status').where('sender_id', '=', SENDER).where('message_id', '=', messageId).executeTakeFirst())?.status

const delivered = (messageId: string) => until(async () => (await status(messageId)) === 'delivered', 20_000)

/** The delivery's evidence as the sender reads it: GET /v1/deliveries/{id}/evidence with a proof. */
async function evidenceOf(messageId: string): Promise<{ jws: string; ev: Evidence }[]> {
  const path = `/v1/deliveries/${messageId}/evidence`
  const authorization = await createRequestProof({ key: senderKey, iss: SENDER, aud: 'router-a', method: 'GET', path })
  const r = await call(a.url, 'GET', path, { headers: { authorization } })
  if (r.status !== 200) throw new Error(r.text)
  return (r.json.evidence as string[]).map((jws) => ({ jws, ev: decodeEvidence(jws) }))
}

async function ledger() {
  const rows = await a.store.db.selectFrom('stamp_ledger').selectAll().where('sender_id', '=', SENDER).orderBy('sequence').execute()
  return rows.map((r) => ({ kind: r.kind, amount: Number(r.amount), messageId: r.message_id, evidenceId: r.evidence_id, reason: r.reason, stampClass: r.stamp_class }))
}

async function balanceMatchesLedger(t: Test) {
  const account = await a.store.db.selectFrom('stamp_accounts').select('balance').where('sender_id', '=', SENDER).executeTakeFirstOrThrow()
  const sum = (await ledger()).reduce((s, e) => s + e.amount, 0)
  t.equal(Number(account.balance), sum, `balance ${account.balance} = sum of the ledger ${sum}`)
}

const open = (node: RunningNode, address: string, messageId: string) => call(node.url, 'GET', `/v1/admin/vault-addresses/${address}/documents/${messageId}`, { admin: true })

const handoverJobs = async (node: RunningNode) =>
  Number((await node.store.db.selectFrom('outbox').select((eb) => eb.fn.countAll<string>().as('n')).where('kind', '=', 'handover').executeTakeFirstOrThrow()).n)

t.test('discovery: B announces handover, C does not; A announces the metering profile', async (t) => {
  const da = (await call(a.url, 'GET', '/.well-known/timbre')).json
  const db = (await call(b.url, 'GET', '/.well-known/timbre')).json
  const dc = (await call(c.url, 'GET', '/.well-known/timbre')).json
  t.same(da.profiles, ['core', 'portability', 'metering'], 'a charging routing node announces metering')
  t.ok(db.features.includes('handover'))
  t.notOk(dc.features.includes('handover'))
  t.same(db.profiles, ['core', 'portability'], 'a vault operator that does not route announces no metering')
})

t.test('registered → vault with handover: the first open pushes a Handover that joins the chain; no refund', async (t) => {
  const { messageId, stamp } = await submit(addressB, 'registered', 'registered letter')
  t.equal(stamp.stampClass, 'registered')
  await delivered(messageId)
  const before = await evidenceOf(messageId)
  const deposit = before.find((e) => e.ev.event === 'DepositAcceptance')!
  t.ok(deposit, 'the DepositAcceptance of B is in the chain')
  t.notOk(before.some((e) => e.ev.event === 'Handover'), 'no Handover before the person opens the document')

  const first = await open(b, addressB, messageId)
  t.equal(first.status, 200, first.text)
  t.equal(first.text, 'registered letter', 'the document bytes')
  t.match(String(first.headers['content-type']), /^text\/plain/)
  const handoverJws = String(first.headers['x-timbre-handover'])
  const bJwks = (await call(b.url, 'GET', '/.well-known/jwks.json')).json
  const handover = await verifyEvidence(handoverJws, bJwks, { issuer: 'vault-b', messageId, event: 'Handover' })
  t.equal(handover.previousEvidenceId, deposit.ev.evidenceId, 'the Handover follows the DepositAcceptance (7.2)')
  t.equal(handover.stampClass, 'registered')
  t.equal(handover.sender, SENDER)
  t.equal(handover.envelopeDigest, stamp.envelopeDigest)

  // B's outbox pushes it to the stamp's issuer; A attaches it to the delivery.
  const chain: { jws: string; ev: Evidence }[] = await until(async () => {
    const list = await evidenceOf(messageId)
    return list.some((e) => e.ev.event === 'Handover') ? list : undefined
  }, 20_000) ?? []
  const attached = chain.filter((e) => e.ev.event === 'Handover')
  t.equal(attached.length, 1, 'one Handover at the routing node')
  t.equal(attached[0]!.jws, handoverJws, 'the very JWS B signed')
  t.equal(chain.at(-1)!.ev.event, 'Handover', 'listed after the deposit and the RelayAcceptance')
  t.equal(await status(messageId), 'delivered', 'the status is unchanged')
  await until(async () => (await handoverJobs(b)) === 0)

  // B keeps it with the document's evidence.
  const record = (await b.store.db.selectFrom('vault_deposits').select(['handover', 'chain']).where('message_id', '=', messageId).executeTakeFirstOrThrow())
  t.equal(record.handover, handoverJws, 'B stored the Handover with the deposit')

  // A later open issues nothing new.
  const second = await open(b, addressB, messageId)
  t.equal(second.status, 200)
  t.equal(second.headers['x-timbre-handover'], handoverJws, 'the same Handover, not a new one')
  t.equal(await handoverJobs(b), 0, 'no second push queued')
  t.equal((await evidenceOf(messageId)).filter((e) => e.ev.event === 'Handover').length, 1, 'still one Handover')

  const entries = (await ledger()).filter((e) => e.messageId === messageId)
  t.same(entries.map((e) => [e.kind, e.amount]), [['charge', -30]], 'charged as registered, never refunded')
  await balanceMatchesLedger(t)
})

t.test('registered → vault without handover: one refund of the difference pointing to the DepositAcceptance (TMB-MTR-005)', async (t) => {
  const { messageId } = await submit(addressC, 'registered')
  await delivered(messageId)
  const deposit = (await evidenceOf(messageId)).find((e) => e.ev.event === 'DepositAcceptance')!
  t.equal(deposit.ev.issuer, 'vault-c')
  const entries = (await ledger()).filter((e) => e.messageId === messageId)
  t.same(entries.map((e) => [e.kind, e.amount]), [['charge', -30], ['refund', 20]], 'one charge, one refund of 30 − 10')
  t.equal(entries[1]!.evidenceId, deposit.ev.evidenceId, 'the refund names the DepositAcceptance')
  t.equal(entries[1]!.reason, 'handover-unsupported')
  t.equal(entries[1]!.stampClass, 'registered')
  await balanceMatchesLedger(t)

  const opened = await open(c, addressC, messageId)
  t.equal(opened.status, 200)
  t.equal(opened.headers['x-timbre-handover'], undefined, 'C issues no Handover')
  t.equal(await handoverJobs(c), 0)
  t.equal((await ledger()).filter((e) => e.messageId === messageId).length, 2, 'nothing more after the open')
})

t.test('standard → vault with handover: no Handover is required or issued', async (t) => {
  const { messageId } = await submit(addressB, 'standard')
  await delivered(messageId)
  const opened = await open(b, addressB, messageId)
  t.equal(opened.status, 200)
  t.equal(opened.headers['x-timbre-handover'], undefined, 'no Handover for a standard delivery')
  t.equal(await handoverJobs(b), 0)
  t.notOk((await evidenceOf(messageId)).some((e) => e.ev.event === 'Handover'))
  t.same((await ledger()).filter((e) => e.messageId === messageId).map((e) => [e.kind, e.amount]), [['charge', -10]])
  await balanceMatchesLedger(t)
})

t.test('the push is durable: queued with the Handover, sent by the worker after a restart', async (t) => {
  const store = await testStore(t)
  const config = testConfig({ nodeId: 'vault-d', roles: ['vault-operator'], directoryUrl: a.url, delivery: FAST_DELIVERY })
  // First life: no worker, so the push can only be in the outbox.
  const d1 = await startNode({ config, store, worker: false })
  t.teardown(() => d1.close())
  const addressD = await admitVault(d1)
  const { messageId } = await submit(addressD, 'registered')
  await delivered(messageId)
  const opened = await open(d1, addressD, messageId)
  t.equal(opened.status, 200)
  const handoverJws = String(opened.headers['x-timbre-handover'])
  t.equal(await handoverJobs(d1), 1, 'the push is queued in the transaction that kept the Handover')
  t.notOk((await evidenceOf(messageId)).some((e) => e.ev.event === 'Handover'), 'not pushed yet')
  await d1.close()

  // Second life on the same database: the worker takes the job up and pushes.
  const d2 = await startNode({ config, store })
  t.teardown(() => d2.close())
  const chain = await until(async () => {
    const list = await evidenceOf(messageId)
    return list.some((e) => e.ev.event === 'Handover') ? list : undefined
  }, 20_000) ?? []
  t.equal(chain.filter((e) => e.ev.event === 'Handover').map((e) => e.jws).join(), handoverJws, 'the queued Handover reached the routing node')
  await until(async () => (await handoverJobs(d2)) === 0)
  t.equal((await open(d2, addressD, messageId)).headers['x-timbre-handover'], handoverJws, 'still the one Handover')
  t.equal(await handoverJobs(d2), 0)
})

t.test('opening an unknown document is 404 not-found', async (t) => {
  const r = await open(b, addressB, uuidv7())
  t.equal(r.status, 404)
  t.equal(r.json.code, 'not-found')
  t.equal(r.json.retryable, false)
  const bad = await open(b, addressB, 'not-a-uuid')
  t.equal(bad.status, 404)
})
