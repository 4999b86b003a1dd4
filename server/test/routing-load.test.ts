// 1,000 documents through the routing node to one VaultKit vault: none lost,
// none duplicated. On PostgreSQL two routing-node instances with their own
// pools share one fresh database and cooperate through the outbox (FOR
// UPDATE SKIP LOCKED + leases); on PGlite one node does all the work.
import t from 'tap'
import { MEMORY_DATA_DIR } from '../src/config/schema.js'
import { startNode, type RunningNode } from '../src/node.js'
import { openStore, type Store } from '../src/store/db.js'
import { freshDatabaseUrl, onPostgres, testStore } from './helpers/db.js'
import { testConfig } from './helpers/node.js'
import { registerSender, startVault, TestDirectory, until } from './helpers/routing.js'
import { FAST_DELIVERY, seal, submitRaw, type RoutingFixture } from './routing-setup.js'

const DOCUMENTS = Number(process.env.TIMBRE_LOAD_DOCUMENTS ?? 1000)
const ADDRESSES = 10
const SUBMIT_CONCURRENCY = 32

t.test(`${DOCUMENTS} documents, ${onPostgres ? 'two routing-node instances on one PostgreSQL' : 'one node on PGlite'}`, async (t) => {
  if (!onPostgres) t.comment('DATABASE_URL is unset: the two-process part runs only on PostgreSQL; running one node on PGlite')
  const dir = new TestDirectory()
  await dir.serve(t)
  const nodes: RunningNode[] = []
  const vault = await startVault(t, 'vault-load.test', dir, () => nodes[0]!)
  const config = testConfig({ roles: ['routing-node'], delivery: { ...FAST_DELIVERY, concurrency: 16, batchSize: 16 } })
  const stores: Store[] = []
  if (onPostgres) {
    const url = await freshDatabaseUrl(t, async () => { for (const s of stores) await s.close() })
    for (let i = 0; i < 2; i++) stores.push(await openStore({ dataDir: MEMORY_DATA_DIR, databaseUrl: url, poolSize: 10 }))
  } else {
    stores.push(await testStore(t))
  }
  for (const store of stores) {
    const node = await startNode({ config, store, directory: dir })
    nodes.push(node)
    t.teardown(() => node.close())
  }
  t.same(new Set(nodes.map((n) => n.keys.signingKey.kid)).size, 1, 'the instances share the node keys')
  const addresses: string[] = []
  for (let i = 0; i < ADDRESSES; i++) {
    const a = await vault.kit.openAccount()
    await dir.setLine(a, vault.id)
    addresses.push(a)
  }
  const sender = await registerSender(nodes[0]!, stores[0]!, dir)
  const fixtures: RoutingFixture[] = nodes.map((node, i) => ({ dir, store: stores[i]!, node, vault, address: addresses[0]!, sender }))

  // Seal first, so the timing below is the node's, not the sender's encryption.
  const bodies: { id: string; body: string }[] = []
  for (let i = 0; i < DOCUMENTS; i++) {
    const s = await seal(fixtures[0]!, { address: addresses[i % ADDRESSES]!, document: `document ${i}` })
    bodies.push({ id: s.metadata.messageId, body: JSON.stringify({ envelope: s.envelope, content: s.content }) })
  }
  const started = Date.now()
  let next = 0
  const statuses = new Map<number, number>()
  await Promise.all(Array.from({ length: SUBMIT_CONCURRENCY }, async () => {
    while (next < bodies.length) {
      const i = next++
      const res = await submitRaw(fixtures[i % fixtures.length]!, { body: bodies[i]!.body })
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
    }
  }))
  const submitted = Date.now()
  t.same(Object.fromEntries(statuses), { 202: DOCUMENTS }, 'every submission accepted')
  const db = stores[0]!.db
  await until(async () => {
    const r = await db.selectFrom('deliveries').select((eb) => eb.fn.countAll<string>().as('n')).where('status', '=', 'delivered').executeTakeFirstOrThrow()
    return Number(r.n) === DOCUMENTS
  }, 180_000, 100)
  const delivered = Date.now()

  // At the vault: one deposit per (sender, messageId), every message there.
  const deposits = (await Promise.all(addresses.map((a) => vault.kit.documents(a)))).flat()
  const keys = deposits.map((d) => `${d.sender}/${d.messageId}`)
  t.equal(deposits.length, DOCUMENTS, 'deposits')
  t.equal(new Set(keys).size, DOCUMENTS, 'no duplicate deposit')
  t.same(new Set(deposits.map((d) => d.messageId)), new Set(bodies.map((b) => b.id)), 'none lost')
  // At the node: exactly SubmissionAcceptance, DepositAcceptance, RelayAcceptance per message.
  const perMessage = await db.selectFrom('evidence').select(['message_id', 'event']).execute()
  const byMessage = new Map<string, string[]>()
  for (const r of perMessage) byMessage.set(r.message_id, [...(byMessage.get(r.message_id) ?? []), r.event])
  t.equal(byMessage.size, DOCUMENTS)
  t.ok([...byMessage.values()].every((e) => e.length === 3 && new Set(e).size === 3), 'three distinct evidences per message')
  t.equal(Number((await db.selectFrom('outbox').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n), 0, 'outbox drained')
  const perNode = nodes.map((n) => n.worker?.stats.relays ?? 0)
  t.comment(`database=${onPostgres ? 'postgres' : 'pglite'} nodes=${nodes.length} documents=${DOCUMENTS}`)
  t.comment(`submit: ${submitted - started} ms (${Math.round(DOCUMENTS / ((submitted - started) / 1000))}/s); all delivered after ${delivered - started} ms (${Math.round(DOCUMENTS / ((delivered - started) / 1000))}/s end to end)`)
  t.comment(`relay requests at the vault: ${vault.hits}; relays per node: ${perNode.join(', ')}`)
  if (onPostgres) t.ok(perNode.every((n) => n > 0), 'both instances relayed')
  t.equal(perNode.reduce((a, b) => a + b, 0), vault.hits, 'no relay sent twice')
})
