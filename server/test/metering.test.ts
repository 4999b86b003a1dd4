// Metering (spec chapter 11) over real HTTP and a real database: the charge
// at acceptance under concurrency (1,000 submissions for 500 stamps, also
// with two node instances on one PostgreSQL), 402 changing nothing,
// idempotency, refunds at final rejection and window expiry, re-routes
// uncharged, signed statements (JSON + CSV) and their tampering, settlement
// and reconciliation between a routing node and a vault operator.
import {
  createRequestProof,
  decodeStatement,
  generateSigningKey,
  generateVaultAddress,
  signStatement,
  toPublicJwk,
  uuidv7,
  verifySettlement,
  verifyStatement,
  type Reconciliation,
  type SenderStatement,
  type SettlementStatement,
} from '@timbre/sdk'
import t from 'tap'
import { MEMORY_DATA_DIR } from '../src/config/schema.js'
import type { ConfigOverrides } from '../src/config/load-config.js'
import { startNode, type RunningNode } from '../src/node.js'
import { openStore, type Store } from '../src/store/db.js'
import { freshDatabaseUrl, onPostgres, testStore, type Teardown } from './helpers/db.js'
import { call } from './helpers/http.js'
import { testConfig } from './helpers/node.js'
import { counts, registerSender, startVault, TestDirectory, until } from './helpers/routing.js'
import { FAST_DELIVERY, seal, submitRaw, type RoutingFixture } from './routing-setup.js'

const PRICE = 10
const METERING = { currency: 'EUR', tariffs: { standard: PRICE, registered: 30 }, terminationFees: { '*': { standard: 2, registered: 5 } } }

/** A clock that can be moved forward (to close a month). */
function movableClock() {
  let offset = 0
  return { now: () => new Date(Date.now() + offset), jumpTo: (d: Date) => { offset = d.getTime() - Date.now() } }
}

interface Fixture extends RoutingFixture { clock: ReturnType<typeof movableClock> }

async function fixture(t: Teardown, overrides: ConfigOverrides = {}, options: { worker?: boolean; store?: Store } = {}): Promise<Fixture> {
  const dir = new TestDirectory()
  await dir.serve(t)
  const store = options.store ?? (await testStore(t))
  const clock = movableClock()
  let node: RunningNode | undefined
  const vault = await startVault(t, 'vault-a.test', dir, () => node!)
  node = await startNode({
    config: testConfig({ roles: ['routing-node'], metering: METERING, ...overrides, delivery: { ...FAST_DELIVERY, ...overrides.delivery } }),
    store, directory: dir, now: clock.now, worker: options.worker ?? true,
  })
  const started = node
  t.teardown(() => started.close())
  const address = await vault.kit.openAccount()
  await dir.setLine(address, vault.id)
  const sender = await registerSender(node, store, dir)
  return { dir, store, node, vault, address, sender, clock }
}

const admin = (node: RunningNode, path: string, body: unknown) =>
  call(node.listenUrl, 'POST', path, { body: JSON.stringify(body), headers: { 'content-type': 'application/json', authorization: `Bearer ${node.adminToken}` } })

async function topup(node: RunningNode, sender: string, amount: number) {
  const r = await admin(node, `/v1/admin/senders/${encodeURIComponent(sender)}/topups`, { amount, reference: `test top-up ${amount}` })
  if (r.status !== 201) throw new Error(`top-up failed: ${r.status} ${r.text}`)
  return r.json
}

async function ledger(store: Store, sender: string) {
  const rows = await store.db.selectFrom('stamp_ledger').selectAll().where('sender_id', '=', sender).orderBy('sequence').execute()
  return rows.map((r) => ({ ...r, amount: Number(r.amount), sequence: Number(r.sequence), balance_after: Number(r.balance_after) }))
}

async function account(store: Store, sender: string) {
  const a = await store.db.selectFrom('stamp_accounts').selectAll().where('sender_id', '=', sender).executeTakeFirstOrThrow()
  return { balance: Number(a.balance), creditLimit: Number(a.credit_limit) }
}

/** Month after the one `d` lies in, as [period of d, first instant of the next month + 1 h]. */
function closeMonthOf(d: Date): { period: string; after: Date } {
  const period = d.toISOString().slice(0, 7)
  return { period, after: new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1, 1)) }
}

// ---------------------------------------------------------------------------

const variants: { name: string; instances: number }[] = onPostgres
  ? [{ name: 'one node on PostgreSQL', instances: 1 }, { name: 'two node instances on one PostgreSQL (separate pools)', instances: 2 }]
  : [{ name: 'one node on PGlite', instances: 1 }]

for (const v of variants) {
  t.test(`1,000 concurrent submissions for 500 stamps: ${v.name}`, async (t) => {
    const dir = new TestDirectory()
    await dir.serve(t)
    const nodes: RunningNode[] = []
    const vault = await startVault(t, 'vault-race.test', dir, () => nodes[0]!)
    const config = testConfig({ roles: ['routing-node'], metering: METERING, delivery: FAST_DELIVERY })
    const stores: Store[] = []
    if (v.instances > 1) {
      const url = (await freshDatabaseUrl(t, async () => { for (const s of stores) await s.close() }))!
      for (let i = 0; i < v.instances; i++) stores.push(await openStore({ dataDir: MEMORY_DATA_DIR, databaseUrl: url, poolSize: 10 }))
    } else {
      stores.push(await testStore(t))
    }
    for (const store of stores) {
      const node = await startNode({ config, store, directory: dir, worker: false })
      nodes.push(node)
      t.teardown(() => node.close())
    }
    const address = await vault.kit.openAccount()
    await dir.setLine(address, vault.id)
    const sender = await registerSender(nodes[0]!, stores[0]!, dir)
    await topup(nodes[0]!, sender.id, 500 * PRICE)
    const fixtures: RoutingFixture[] = nodes.map((node, i) => ({ dir, store: stores[i]!, node, vault, address, sender }))

    const bodies: string[] = []
    await Promise.all(Array.from({ length: 8 }, async (_, w) => {
      for (let i = w; i < 1000; i += 8) {
        const s = await seal(fixtures[0]!, { document: `document ${i}` })
        bodies[i] = JSON.stringify({ envelope: s.envelope, content: s.content })
      }
    }))
    let next = 0
    const statuses: Record<number, number> = {}
    const codes = new Set<string>()
    const started = Date.now()
    await Promise.all(Array.from({ length: 64 }, async () => {
      while (next < bodies.length) {
        const i = next++
        const res = await submitRaw(fixtures[i % fixtures.length]!, { body: bodies[i]! })
        statuses[res.status] = (statuses[res.status] ?? 0) + 1
        if (res.status === 402) codes.add(`${res.json.code} ${String(res.headers['content-type']).split(';')[0]}`)
      }
    }))
    const ms = Date.now() - started
    t.same(statuses, { 202: 500, 402: 500 }, 'exactly 500 accepted, 500 refused')
    t.same([...codes], ['stamp-balance-exhausted application/problem+json'])
    const db = stores[0]!
    const acct = await account(db, sender.id)
    t.equal(acct.balance, 0, 'balance ends at 0')
    const entries = await ledger(db, sender.id)
    t.equal(entries.length, 501, 'one top-up and 500 charges')
    t.equal(entries.reduce((a, e) => a + e.amount, 0), acct.balance, 'balance == sum(ledger)')
    t.ok(entries.every((e) => e.balance_after >= 0), 'never negative')
    t.same(entries.map((e) => e.sequence), entries.map((_, i) => i + 1), 'sequences 1..501 without gaps')
    let running = 0
    t.ok(entries.every((e) => (running += e.amount) === e.balance_after), 'balanceAfter follows the amounts')
    const c = await counts(db)
    t.same({ deliveries: c.deliveries, evidence: c.evidence, outbox: c.outbox, idempotency: c.idempotency }, { deliveries: 500, evidence: 500, outbox: 500, idempotency: 500 }, 'refused submissions left nothing')
    t.equal(new Set(entries.filter((e) => e.kind === 'charge').map((e) => e.message_id)).size, 500, 'one charge per accepted message')
    t.comment(`database=${onPostgres ? 'postgres' : 'pglite'} instances=${v.instances}: 1000 submissions in ${ms} ms (${Math.round(1000 / (ms / 1000))}/s); 202=${statuses[202]} 402=${statuses[402]} balance=${acct.balance}`)
  })
}

t.test('402 changes nothing; the same request goes through after a top-up; replays and other bodies are not charged', async (t) => {
  const f = await fixture(t, {}, { worker: false })
  await topup(f.node, f.sender.id, PRICE)
  const s1 = await seal(f)
  const body1 = JSON.stringify({ envelope: s1.envelope, content: s1.content })
  const ok = await submitRaw(f, { body: body1, idempotencyKey: 'k1' })
  t.equal(ok.status, 202)
  // Replay: same key, same body → the stored answer, no new charge.
  const replay = await submitRaw(f, { body: body1, idempotencyKey: 'k1' })
  t.equal(replay.status, 202)
  t.equal(replay.headers['idempotency-replayed'], 'true')
  // messageId replay under a new key: the original answer, no charge.
  t.equal((await submitRaw(f, { body: body1, idempotencyKey: 'k1b' })).status, 202)
  // Another body under the same key: refused, not charged.
  const s2 = await seal(f)
  const body2 = JSON.stringify({ envelope: s2.envelope, content: s2.content })
  const reused = await submitRaw(f, { body: body2, idempotencyKey: 'k1' })
  t.equal(reused.status, 422)
  t.equal(reused.json.code, 'idempotency-key-reused')
  t.equal((await ledger(f.store, f.sender.id)).length, 2, 'one top-up, one charge')

  // The balance is 0: 402, and nothing else changes.
  const before = await counts(f.store)
  const refused = await submitRaw(f, { body: body2, idempotencyKey: 'k2' })
  t.equal(refused.status, 402)
  t.equal(refused.json.code, 'stamp-balance-exhausted')
  t.match(refused.headers['content-type'], /application\/problem\+json/)
  t.same(await counts(f.store), before, 'no delivery, evidence, outbox row, idempotency record or used jti')
  t.equal((await ledger(f.store, f.sender.id)).length, 2, 'no ledger entry')
  // Top up; the very same request (same proof, same key) now succeeds: its jti and key stayed unused.
  await topup(f.node, f.sender.id, PRICE)
  const retried = await call(f.node.listenUrl, 'POST', '/v1/submissions', { body: body2, headers: { 'content-type': 'application/json', authorization: refused.authorization, 'idempotency-key': 'k2' } })
  t.equal(retried.status, 202)
  t.equal(retried.json.messageId, s2.metadata.messageId, 'the messageId was still free')
  const entries = await ledger(f.store, f.sender.id)
  t.same(entries.map((e) => e.kind), ['topup', 'charge', 'topup', 'charge'])
  t.equal((await account(f.store, f.sender.id)).balance, 0)

  // Credit limit (adjustment) lets the balance go negative down to it.
  const adj = await admin(f.node, `/v1/admin/senders/${encodeURIComponent(f.sender.id)}/adjustments`, { amount: 0, creditLimit: PRICE, reference: 'credit agreement' })
  t.equal(adj.status, 201)
  t.equal(adj.json.kind, 'adjustment')
  const s3 = await seal(f)
  t.equal((await submitRaw(f, { body: JSON.stringify({ envelope: s3.envelope, content: s3.content }) })).status, 202)
  const s4 = await seal(f)
  t.equal((await submitRaw(f, { body: JSON.stringify({ envelope: s4.envelope, content: s4.content }) })).status, 402)
  const bal = await f.sender.client.stamps.balance()
  t.same(bal, { sender: f.sender.id, currency: 'EUR', balance: -PRICE, creditLimit: PRICE, available: 0 })
  // A class not sold: 400.
  const g = await testStore(t)
  const f2 = await fixture(t, { metering: { ...METERING, tariffs: { standard: PRICE } } }, { worker: false, store: g })
  const s5 = await seal(f2)
  const notSold = await submitRaw(f2, { body: JSON.stringify({ envelope: s5.envelope, content: s5.content, stampClass: 'registered' }) })
  t.equal(notSold.status, 400)
  t.equal(notSold.json.code, 'schema-violation')
  const disc = await call(f2.node.listenUrl, 'GET', '/.well-known/timbre')
  t.same(disc.json.tariffs, [{ stampClass: 'standard', amount: PRICE, currency: 'EUR' }])
})

t.test('the ledger is append-only in the database', async (t) => {
  const f = await fixture(t, {}, { worker: false })
  await topup(f.node, f.sender.id, 100)
  await t.rejects(f.store.db.updateTable('stamp_ledger').set({ reason: 'x' }).execute(), /append-only/)
  await t.rejects(f.store.db.deleteFrom('stamp_ledger').execute(), /append-only/)
  t.equal((await ledger(f.store, f.sender.id)).length, 1)
})

t.test('refund at final rejection and at the end of the window; re-route not charged; recipient-moved not refunded', async (t) => {
  const f = await fixture(t, { delivery: { windowSeconds: 2 } })
  await topup(f.node, f.sender.id, 100 * PRICE)
  // Final rejection: a line to the vault for an account it does not hold.
  const ghost = generateVaultAddress()
  await f.dir.setLine(ghost, f.vault.id)
  const rejected = await f.sender.client.deliver({ to: ghost, document: 'nobody', type: 'other', title: 'Ghost' })
  const r1 = await f.sender.client.waitForDelivery(rejected.messageId, { timeoutMs: 10_000, intervalMs: 20 })
  t.equal(r1.status, 'rejected')
  const rejection = await f.store.db.selectFrom('evidence').select(['evidence_id']).where('message_id', '=', rejected.messageId).where('event', '=', 'RelayRejection').executeTakeFirstOrThrow()
  let entries = (await ledger(f.store, f.sender.id)).filter((e) => e.message_id === rejected.messageId)
  t.same(entries.map((e) => [e.kind, e.amount, e.evidence_id, e.reason]), [
    ['charge', -PRICE, rejected.stamp.evidenceId, null],
    ['refund', PRICE, rejection.evidence_id, r1.reason!.code],
  ], 'charge, then refund pointing to the RelayRejection')

  // Window expiry.
  f.vault.mode = { kind: 'down' }
  const late = await f.sender.client.deliver({ to: f.address, document: 'late', type: 'other', title: 'Late' })
  const r2 = await f.sender.client.waitForDelivery(late.messageId, { timeoutMs: 10_000, intervalMs: 20 })
  t.equal(r2.status, 'failed')
  const failure = await f.store.db.selectFrom('evidence').select(['evidence_id']).where('message_id', '=', late.messageId).where('event', '=', 'RelayFailure').executeTakeFirstOrThrow()
  entries = (await ledger(f.store, f.sender.id)).filter((e) => e.message_id === late.messageId)
  t.same(entries.map((e) => [e.kind, e.amount, e.evidence_id, e.reason]), [
    ['charge', -PRICE, late.stamp.evidenceId, null],
    ['refund', PRICE, failure.evidence_id, 'delivery-window-expired'],
  ], 'refund pointing to the RelayFailure')
  f.vault.mode = { kind: 'ok' }

  // Re-route: recipient-moved is not refunded, the re-route is not charged.
  const vaultB = await startVault(t, 'vault-b.test', f.dir, () => f.node)
  await vaultB.storage.openAccount(f.address)
  await f.vault.storage.markMoved!(f.address, vaultB.id)
  const moving = await f.sender.client.deliver({ to: f.address, document: 'moving', type: 'other', title: 'Moving' })
  await until(async () => (await f.store.db.selectFrom('deliveries').select('status').where('message_id', '=', moving.messageId).executeTakeFirstOrThrow()).status === 'rerouting')
  t.same((await ledger(f.store, f.sender.id)).filter((e) => e.message_id === moving.messageId).map((e) => e.kind), ['charge'], 'recipient-moved: no refund')
  await f.dir.setLine(f.address, vaultB.id)
  const r3 = await f.sender.client.waitForDelivery(moving.messageId, { timeoutMs: 10_000, intervalMs: 20 })
  t.equal(r3.status, 'delivered')
  const chain = await f.sender.client.evidence(moving.messageId)
  t.equal(chain.filter((e) => e.evidence.event === 'SubmissionAcceptance').length, 2, 'two stamps (original and re-route)')
  t.same((await ledger(f.store, f.sender.id)).filter((e) => e.message_id === moving.messageId).map((e) => [e.kind, e.amount]), [['charge', -PRICE]], 're-route: no second charge')
  const all = await ledger(f.store, f.sender.id)
  t.equal((await account(f.store, f.sender.id)).balance, all.reduce((a, e) => a + e.amount, 0), 'balance == sum(ledger)')
  t.equal((await account(f.store, f.sender.id)).balance, 100 * PRICE - PRICE, 'only the delivered message is paid')
})

t.test('monthly statement: signed JSON and CSV, verified; tampering and wrong keys fail', async (t) => {
  const f = await fixture(t)
  await topup(f.node, f.sender.id, 1000)
  const receipts = []
  for (let i = 0; i < 3; i++) receipts.push(await f.sender.client.deliver({ to: f.address, document: `doc ${i}`, type: 'payslip', title: `Payslip ${i}` }))
  for (const r of receipts) await f.sender.client.waitForDelivery(r.messageId, { timeoutMs: 10_000, intervalMs: 20 })
  const usage = await f.sender.client.stamps.usage(new Date().toISOString().slice(0, 7))
  t.equal(usage.topups.amount, 1000)
  const { period, after } = closeMonthOf(new Date())
  // The month is still open: 404.
  await t.rejects(f.sender.client.stamps.statement(period), { code: 'not-found' })
  // Last month is closed (and empty for this sender): the client fetches and verifies it.
  const last = new Date(); last.setUTCDate(1); last.setUTCMonth(last.getUTCMonth() - 1)
  const empty = await f.sender.client.stamps.statement(last.toISOString().slice(0, 7))
  t.same([empty.statement.openingBalance, empty.statement.closingBalance, empty.statement.classes, empty.statement.firstSequence], [0, 0, [], undefined])
  // Close this month: move the node's clock; proofs are made on that clock.
  f.clock.jumpTo(after)
  const get = async (path: string, accept = 'application/json') => {
    const authorization = await createRequestProof({ key: f.sender.privateJwk, iss: f.sender.id, aud: f.node.config.nodeId, method: 'GET', path, body: '', now: f.clock.now() })
    return call(f.node.listenUrl, 'GET', path, { headers: { authorization, accept } })
  }
  const res = await get(`/v1/stamps/statements/${period}`)
  t.equal(res.status, 200, res.text)
  const jws = res.json.statement as string
  const statement = await verifyStatement<SenderStatement>(jws, f.node.keys.jwks(), { kind: 'sender-statement', sender: f.sender.id, period, issuer: f.node.config.nodeId })
  const charges = statement.classes.reduce((a, c) => a + c.count, 0)
  t.equal(charges, 3, 'three charges')
  t.equal(statement.openingBalance, 0)
  t.equal(statement.topups.amount, 1000)
  t.equal(statement.closingBalance, 1000 - 3 * PRICE)
  // Issued once: the same bytes on every later request.
  t.equal((await get(`/v1/stamps/statements/${period}`)).json.statement, jws)
  const jwks = f.node.keys.jwks()
  await verifyStatement(jws, jwks, { kind: 'sender-statement', sender: f.sender.id, period })

  // CSV by Accept, checked against the signed figures.
  const csv = await get(`/v1/stamps/statements/${period}`, 'text/csv')
  t.equal(csv.status, 200)
  t.match(csv.headers['content-type'], /text\/csv/)
  t.equal(csv.text.split('\r\n')[0], 'entryId,sequence,time,kind,stampClass,amount,currency,messageId,evidenceId,reference,balanceAfter')
  await verifyStatement(jws, jwks, { csv: csv.text })
  await t.rejects(verifyStatement(jws, jwks, { csv: csv.text.replace(/,-10,/, ',-1,') }), { code: 'statement-invalid' }, 'a tampered CSV row fails')

  // A tampered figure, re-encoded under the original signature.
  const [h, p, sig] = jws.split('.')
  const payload = JSON.parse(Buffer.from(p!, 'base64url').toString()) as SenderStatement
  const tampered = `${h}.${Buffer.from(JSON.stringify({ ...payload, closingBalance: payload.closingBalance + 100, topups: { ...payload.topups, amount: payload.topups.amount + 100 } })).toString('base64url')}.${sig}`
  await t.rejects(verifyStatement(tampered, jwks), { code: 'statement-invalid' }, 'tampered figure')
  // A consistent forgery signed with another key.
  const other = await generateSigningKey()
  const forged = await signStatement({ ...payload, topups: { ...payload.topups, amount: payload.topups.amount + 100 }, closingBalance: payload.closingBalance + 100 }, { ...other, kid: f.node.keys.signingKey.kid })
  await t.rejects(verifyStatement(forged, jwks), { code: 'statement-invalid' }, 'wrong signature')
  // Arithmetic holds even for a correctly signed statement: a node signing wrong figures is caught.
  const wrongSums = await signStatement({ ...payload, closingBalance: payload.closingBalance + 1 }, f.node.keys.signingKey)
  await t.rejects(verifyStatement(wrongSums, jwks), { code: 'statement-invalid' }, 'wrong arithmetic')
  t.equal(decodeStatement<SenderStatement>(jws).sender, f.sender.id)
})

t.test('settlement: the routing node and the vault operator reconcile; one missing and one extra delivery are reported', async (t) => {
  const f = await fixture(t)
  await topup(f.node, f.sender.id, 1000)
  const receipts = []
  for (let i = 0; i < 4; i++) receipts.push(await f.sender.client.deliver({ to: f.address, document: `doc ${i}`, type: 'payslip', title: `Payslip ${i}` }))
  for (const r of receipts) t.equal((await f.sender.client.waitForDelivery(r.messageId, { timeoutMs: 10_000, intervalMs: 20 })).status, 'delivered')
  const { period, after } = closeMonthOf(new Date())
  f.clock.jumpTo(after)
  // The vault operator signs with a key the directory lists for it.
  const vaultKey = await generateSigningKey(new Date(Date.now() - 3_600_000))
  f.dir.operators.get(f.vault.id)!.jwks.keys.push(toPublicJwk(vaultKey))
  const asVault = async (method: 'GET' | 'POST', path: string, body = '') => {
    const authorization = await createRequestProof({ key: vaultKey, iss: f.vault.id, aud: f.node.config.nodeId, method, path, body })
    return call(f.node.listenUrl, method, path, { ...(body ? { body } : {}), headers: { authorization, ...(body ? { 'content-type': 'application/json' } : {}) } })
  }
  const got = await asVault('GET', `/v1/settlements/${f.vault.id}/${period}`)
  t.equal(got.status, 200)
  const routerStatement = got.json.statement as string
  const payload = await verifyStatement<SettlementStatement>(routerStatement, f.node.keys.jwks(), { kind: 'settlement' })
  t.equal(payload.routingOperator, f.node.config.nodeId)
  t.equal(payload.vaultOperator, f.vault.id)
  t.same(payload.classes, [{ stampClass: 'standard', count: 4, fee: 2, amount: 8 }])
  t.same(new Set(payload.deliveries.map((d) => d.messageId)), new Set(receipts.map((r) => r.messageId)))
  // Someone else may not read it.
  const stranger = await call(f.node.listenUrl, 'GET', `/v1/settlements/${f.vault.id}/${period}`, { headers: { authorization: await createRequestProof({ key: f.sender.privateJwk, iss: f.sender.id, aud: f.node.config.nodeId, method: 'GET', path: `/v1/settlements/${f.vault.id}/${period}`, body: '' }) } })
  t.ok(stranger.status === 401 || stranger.status === 403, `a sender is refused (${stranger.status})`)

  // The vault's own records: one delivery missing, one extra.
  const missing = payload.deliveries[1]!
  const extra = { sender: f.sender.id, messageId: uuidv7(), stampClass: 'standard' as const, evidenceId: uuidv7() }
  const deliveries = [...payload.deliveries.filter((d) => d !== missing), extra].sort((a, b) => (a.sender + a.messageId < b.sender + b.messageId ? -1 : 1))
  const vaultSide = await signStatement({ ...payload, deliveries, classes: [{ stampClass: 'standard', count: 4, fee: 2, amount: 8 }] }, vaultKey)
  const rec = await asVault('POST', '/v1/settlements/reconciliation', JSON.stringify({ statement: vaultSide }))
  t.equal(rec.status, 200, rec.text)
  const r = rec.json as Reconciliation
  t.equal(r.matched, false)
  t.same(r.onlyHere.map((d) => d.messageId), [missing.messageId], 'missing at the vault')
  t.same(r.onlyThere.map((d) => d.messageId), [extra.messageId], 'extra at the vault')
  t.same(r.classMismatch, [])
  t.notOk('countersignature' in r)
  const disagreeing = [...r.onlyHere, ...r.onlyThere].map((d) => d.messageId).sort()
  t.same(disagreeing, [missing.messageId, extra.messageId].sort(), 'exactly those two message ids')

  // Agreement: the node countersigns; the pair verifies offline.
  const agreed = await signStatement(payload, vaultKey)
  const ok = await asVault('POST', '/v1/settlements/reconciliation', JSON.stringify({ statement: agreed }))
  t.equal(ok.json.matched, true)
  const settled = await verifySettlement(ok.json.countersignature, agreed, { routing: f.node.keys.jwks(), vault: [toPublicJwk(vaultKey)] })
  t.equal(settled.classes[0]!.amount, 8)
  await t.rejects(verifySettlement(ok.json.countersignature, vaultSide, { routing: f.node.keys.jwks(), vault: [toPublicJwk(vaultKey)] }), { code: 'statement-invalid' })
  await t.rejects(verifySettlement(agreed, ok.json.countersignature, { routing: f.node.keys.jwks(), vault: [toPublicJwk(vaultKey)] }), { code: 'statement-invalid' }, 'signers swapped')
})
