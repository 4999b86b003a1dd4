// A routing node on a remote directory routes from its replica (spec 8.3,
// 8.4), with two nodes over real HTTP: D (directory + vault operator) and R
// (routing node only, directoryUrl = D). The replica follows the change feed
// on D's push before a scheduled change takes effect, knows its staleness and
// cursor lag, and goes live past its staleness bound.
import t from 'tap'
import { generateSigningKey, TimbreClient, toPublicJwk } from '@timbre/sdk'
import type { DirectoryReplica } from '../src/domain/directory-replica.js'
import type { LocalDirectory } from '../src/domain/local-directory.js'
import { testStore } from './helpers/db.js'
import { admit, testOperator } from './helpers/directory.js'
import { call } from './helpers/http.js'
import { startTestNode } from './helpers/node.js'
import { until } from './helpers/routing.js'

const d = await startTestNode(t, { overrides: { nodeId: 'directory-d', roles: ['directory', 'vault-operator'], portability: { workerPollMs: 50 } } })
// R polls the feed rarely: what it learns quickly, it learns from D's push.
const r = await startTestNode(t, {
  store: await testStore(t),
  overrides: { nodeId: 'router-r', roles: ['routing-node'], directoryUrl: d.url, portability: { replicaPollMs: 10_000, replicaStalenessSeconds: 2 }, delivery: { pollIntervalMs: 20, retryBaseMs: 20, retryCapMs: 200 } },
})
const rJwks = (await call(r.url, 'GET', '/.well-known/jwks.json')).json
t.equal((await call(d.url, 'POST', '/v1/admin/operators', { admin: true, body: { id: 'router-r', roles: ['routing-node'], baseUrl: r.url, jwks: rJwks } })).status, 201)
const replica = r.directory as DirectoryReplica
t.equal((replica as { kind: string }).kind, 'replica', 'the routing node on a remote directory uses a replica')

t.test('the push of D brings a new line to R within a second; R routes from its replica', async (t) => {
  const before = BigInt(replica.status().cursor)
  const address = (await call(d.url, 'POST', '/v1/admin/vault-addresses', { admin: true, body: {} })).json.address as string
  const started = Date.now()
  await until(async () => BigInt(replica.status().cursor) > before, 5_000, 10)
  const ms = Date.now() - started
  t.ok(ms < 2_000, `the change reached R in ${ms} ms (poll interval 10 s: by push)`)
  const status = replica.status()
  t.equal(status.stale, false)
  t.equal(status.cursorLag, 0)
  t.ok(status.stalenessMs < 2_000)

  const key = await generateSigningKey()
  const sender = '0009:55566677700011'
  t.equal((await call(r.url, 'POST', '/v1/admin/senders', { admin: true, body: { id: sender, jwk: toPublicJwk(key) } })).status, 201)
  const client = new TimbreClient({ baseUrl: r.url, senderId: sender, key, directoryUrl: d.url })
  const lookupsBefore = replica.status().replicaLookups
  const receipt = await client.deliver({ to: address, document: 'hello', type: 'payslip', title: 'Hello', mediaType: 'text/plain' })
  t.equal((await client.waitForDelivery(receipt.messageId, { timeoutMs: 20_000, intervalMs: 50 })).status, 'delivered')
  t.ok(replica.status().replicaLookups > lookupsBefore, 'the submission check and the relay resolved from the replica')
  // The route carries the line version it was routed with.
  const route = await replica.lookup(address)
  t.equal(route!.line.version, 1)
})

t.test('a scheduled cut-over is in the replica before it takes effect; versions by instant', async (t) => {
  const address = (await call(d.url, 'POST', '/v1/admin/vault-addresses', { admin: true, body: {} })).json.address as string
  await until(async () => (await replica.lookup(address))?.line.version === 1, 5_000, 20)
  const other = await testOperator('vault-x')
  t.equal((await admit(d.url, other)).status, 201)
  const at = new Date(Date.now() + 60_000)
  await (d.directory as LocalDirectory).service.cutOver(address, 'directory-d', 'vault-x', at)
  const cursor = BigInt(replica.status().cursor)
  await until(async () => BigInt(replica.status().cursor) >= cursor + 2n, 5_000, 10)
  const now = await replica.lookup(address)
  const later = await replica.lookup(address, new Date(at.getTime() + 1))
  t.equal(now!.line.operator, 'directory-d', 'before the cut-over: the donor, version 1')
  t.equal(now!.line.validTo, at.toISOString(), 'closed at the cut-over')
  t.equal(later!.line.operator, 'vault-x', 'after: the new operator')
  t.equal(later!.line.version, 2)
  const rows = await r.store.db.selectFrom('directory_replica_lines').selectAll().where('address', '=', address).execute()
  t.equal(rows.length, 2, 'both versions held locally')
})

t.test('past its staleness bound the routing node looks up live; notifications need the directory proof', async (t) => {
  replica.stop()
  await new Promise((res) => setTimeout(res, 2_300))
  t.equal(replica.status().stale, true, 'stale after 2 s without a complete read')
  const live = replica.status().liveLookups
  const address = (await call(d.url, 'POST', '/v1/admin/vault-addresses', { admin: true, body: {} })).json.address as string
  // The push would sync it; look it up before the push lands.
  const line = await replica.lookup(address)
  t.ok(line, 'resolved')
  t.ok(replica.status().liveLookups > live, 'by a live lookup')
  // TMB-DIR-024: stale (unless D's push for the new address already landed)
  // but the directory answers: still ready.
  const ready = await call(r.url, 'GET', '/ready')
  t.equal(ready.status, 200, 'a reachable directory keeps the node ready')
  t.equal(ready.json.checks.directory, 'ok')
  t.match(ready.json.replica.cursor, /^[0-9]+$/)
  const res = await call(r.url, 'POST', '/v1/notifications/directory', { body: { cursor: '1' } })
  t.equal(res.status, 401, 'a notification without a proof is refused')
  await until(async () => !replica.status().stale, 5_000, 20)
  t.pass('a pushed notification brought it up to date again')
})

t.test('/ready: the replica cursor and staleness; not ready when stale and the directory is unreachable (TMB-DIR-024)', async (t) => {
  await until(async () => !replica.status().stale, 5_000, 20)
  const fresh = await call(r.url, 'GET', '/ready')
  t.equal(fresh.status, 200)
  t.same(fresh.json.checks, { database: 'ok', directory: 'ok' })
  t.equal(fresh.json.replica.stale, false)
  t.equal(fresh.json.replica.cursor, replica.status().cursor)
  replica.stop()
  await d.close()
  await until(async () => replica.status().stale, 10_000, 50)
  const down = await call(r.url, 'GET', '/ready')
  t.equal(down.status, 503, 'stale and the directory unreachable: not ready')
  t.equal(down.json.status, 'unavailable')
  t.equal(down.json.checks.directory, 'failing')
  t.equal(down.json.checks.database, 'ok')
  t.ok(down.headers['retry-after'], 'Retry-After')
})
