// The directory role over real HTTP: signed lookups, registration by proof,
// versioning, the store's no-overlap constraint, the change feed, the trust
// list and the admin API (spec chapter 8, 3.4).
import t from 'tap'
import { compactVerify, importJWK } from 'jose'
import { sql } from 'kysely'
import { generateEncryptionKey, generateVaultAddress, schemaValidator, toPublicJwk, verifyDirectoryLine } from '@timbre/sdk'
import { call } from './helpers/http.js'
import { startTestNode } from './helpers/node.js'
import { admit, putLine, testOperator } from './helpers/directory.js'

const node = await startTestNode(t)
const NODE_ID = 'node-under-test'
const jwks = (await call(node.url, 'GET', '/.well-known/jwks.json')).json
const vaultB = await testOperator('vault-b.example')
const vaultC = await testOperator('vault-c.example')
for (const op of [vaultB, vaultC]) {
  const res = await admit(node.url, op)
  if (res.status !== 201) throw new Error(`admit ${op.id}: ${res.text}`)
}
const valid = (schema: string, value: unknown) => {
  const v = schemaValidator(schema)
  return v(value) ? true : JSON.stringify(v.errors)
}

t.test('the node registered itself as an operator of its own directory', async (t) => {
  const res = await call(node.url, 'GET', `/v1/directory/operators/${NODE_ID}`)
  t.equal(res.status, 200)
  t.equal(valid('operator.json', res.json), true)
  t.same(res.json.roles, ['routing-node', 'directory', 'vault-operator'])
  t.equal(res.json.relayEndpoint, `${node.url}/v1/relay`)
  t.equal((await call(node.url, 'GET', '/v1/directory/operators/nobody.example')).json.code, 'not-found')
})

const address = generateVaultAddress()

t.test('registration by the hosting operator, then a signed lookup (TMB-DIR-001/-008/-010)', async (t) => {
  const put = await putLine(node.url, NODE_ID, address, { iss: vaultB.id, key: vaultB.signingKey })
  t.equal(put.status, 201, put.text)
  const again = await putLine(node.url, NODE_ID, address, { iss: vaultB.id, key: vaultB.signingKey })
  t.equal(again.status, 200, 'the serving operator gets its current line')
  t.equal(valid('directory-lookup-response.json', again.json), true)

  const res = await call(node.url, 'GET', `/v1/directory/addresses/${address}`)
  t.equal(res.status, 200)
  const line = await verifyDirectoryLine(res.json.line, jwks)
  t.match(line, { v: 1, address, operator: vaultB.id, relayEndpoint: 'https://vault-b.example/v1/relay', version: 1, validTo: null, issuer: NODE_ID })
  t.same(line.encryptionKeys.map((k) => k.kid), [vaultB.encryptionKey.kid])
  t.equal(valid('directory-line.json', line), true)
  const view = await node.directory.lookup(address)
  t.equal(view?.line.operator, vaultB.id, 'the DirectoryView answers the same')
})

t.test('unknown and mistyped addresses (TMB-DIR-008)', async (t) => {
  const unknown = await call(node.url, 'GET', `/v1/directory/addresses/${generateVaultAddress()}`)
  t.equal(unknown.status, 404)
  t.equal(unknown.json.code, 'recipient-unknown')
  t.match(unknown.headers['content-type'], /application\/problem\+json/)
  const typo = address.slice(0, 5) + (address[5] === 'A' ? 'B' : 'A') + address.slice(6)
  const bad = await call(node.url, 'GET', `/v1/directory/addresses/${typo}`)
  t.equal(bad.status, 400)
  t.equal(bad.json.code, 'invalid-vault-address')
  t.equal((await call(node.url, 'GET', `/v1/directory/addresses/${address}?at=yesterday`)).json.code, 'schema-violation')
})

t.test('writes: wrong operator, mismatched body, unknown node, replayed proof (TMB-DIR-010, TMB-AUTH)', async (t) => {
  const other = await putLine(node.url, NODE_ID, address, { iss: vaultC.id, key: vaultC.signingKey })
  t.equal(other.status, 409)
  t.equal(other.json.code, 'directory-conflict')
  const mismatch = await putLine(node.url, NODE_ID, address, { iss: vaultC.id, key: vaultC.signingKey, operator: vaultB.id })
  t.equal(mismatch.status, 403)
  t.equal(mismatch.json.code, 'sender-mismatch')
  const stranger = await testOperator('stranger.example')
  const untrusted = await putLine(node.url, NODE_ID, generateVaultAddress(), { iss: stranger.id, key: stranger.signingKey })
  t.equal(untrusted.status, 403)
  t.equal(untrusted.json.code, 'node-untrusted')
  const forged = await putLine(node.url, NODE_ID, generateVaultAddress(), { iss: vaultB.id, key: vaultC.signingKey })
  t.equal(forged.status, 403, 'a key not listed for the issuer')
  const noProof = await call(node.url, 'PUT', `/v1/directory/addresses/${address}`, { body: { operator: vaultB.id } })
  t.equal(noProof.status, 401)
  t.equal(noProof.json.code, 'auth-required')
  t.equal(noProof.headers['www-authenticate'], 'Timbre')

  const fresh = generateVaultAddress()
  const first = await putLine(node.url, NODE_ID, fresh, { iss: vaultB.id, key: vaultB.signingKey })
  t.equal(first.status, 201)
  const replay = await putLine(node.url, NODE_ID, fresh, { iss: vaultB.id, key: vaultB.signingKey, authorization: first.authorization })
  t.equal(replay.status, 401)
  t.equal(replay.json.code, 'request-replayed')
})

let beforeMove: Date
t.test('new encryption keys re-version the lines; the old version stays, closed (TMB-DIR-002/-003/-013)', async (t) => {
  beforeMove = new Date()
  await new Promise((r) => setTimeout(r, 20))
  const rotated = { ...vaultB, encryptionKey: await generateEncryptionKey() }
  t.equal((await admit(node.url, rotated)).status, 201)
  const now = await verifyDirectoryLine((await call(node.url, 'GET', `/v1/directory/addresses/${address}`)).json.line, jwks)
  t.equal(now.version, 2)
  t.same(now.encryptionKeys.map((k) => k.kid), [rotated.encryptionKey.kid])
  const past = await call(node.url, 'GET', `/v1/directory/addresses/${address}?at=${encodeURIComponent(beforeMove.toISOString())}`)
  t.equal(past.status, 200)
  const old = await verifyDirectoryLine(past.json.line, jwks)
  t.equal(old.version, 1)
  t.equal(old.validTo, now.validFrom, 'closed at the instant the new version starts')
  t.same(old.encryptionKeys.map((k) => k.kid), [vaultB.encryptionKey.kid])
  const before = await call(node.url, 'GET', `/v1/directory/addresses/${address}?at=2000-01-01T00:00:00Z`)
  t.equal(before.json.code, 'recipient-unknown')
})

t.test('the DATABASE refuses overlapping lines, deletion and rewriting (TMB-DIR-003/-004)', async (t) => {
  const db = node.store.db
  const insert = (version: number, from: string, to: string | null) => sql`
    insert into directory_lines (address, version, operator_id, relay_endpoint, encryption_keys, valid_from, valid_to)
    values (${address}, ${version}, ${vaultC.id}, 'https://x/v1/relay', '[]'::jsonb, ${from}::timestamptz, ${to}::timestamptz)`.execute(db)
  await t.rejects(insert(10, '2999-01-01T00:00:00Z', null), /directory_lines_no_overlap|exclusion|conflicting key/, 'overlaps the open version 2')
  await t.rejects(insert(11, beforeMove.toISOString(), new Date(beforeMove.getTime() + 1).toISOString()), /directory_lines_no_overlap|exclusion|conflicting key/, 'overlaps version 1')
  await t.rejects(insert(12, '2001-01-01T00:00:00Z', '2000-01-01T00:00:00Z'), /directory_lines_valid_to|check/, 'ends before it starts')
  await t.resolves(insert(13, '2000-01-01T00:00:00Z', '2000-01-02T00:00:00Z'), 'a line before every other does not overlap')
  await t.rejects(sql`delete from directory_lines where address = ${address}`.execute(db), /never deleted/)
  await t.rejects(sql`update directory_lines set operator_id = ${vaultC.id} where address = ${address} and version = 1`.execute(db), /valid_to|only/)
  await t.rejects(sql`update directory_lines set valid_to = now() where address = ${address} and version = 1`.execute(db), /set once/)
})

t.test('the change feed: ordered, gap-free, paginated (TMB-DIR-014..017)', async (t) => {
  const all = await call(node.url, 'GET', '/v1/directory/changes?limit=1000')
  t.equal(all.status, 200)
  t.equal(valid('directory-changes-response.json', all.json), true)
  const cursors = all.json.changes.map((c: { cursor: string }) => Number(c.cursor))
  t.same(cursors, cursors.map((_: number, i: number) => i + 1), 'cursors 1, 2, 3, … without gaps')
  t.equal(all.json.hasMore, false)
  t.equal(all.json.nextCursor, String(cursors.length))
  const ofAddress = all.json.changes.filter((c: { address: string }) => c.address === address)
  t.same(ofAddress.map((c: any) => [c.version, c.validTo === null]), [[1, true], [1, false], [2, true]], 'creation, close, new version')
  for (const c of all.json.changes) {
    const line = await verifyDirectoryLine(c.line, jwks)
    t.match(line, { address: c.address, version: c.version, operator: c.operator, validTo: c.validTo })
  }

  const seen: string[] = []
  let after = '0'
  for (;;) {
    const page = await call(node.url, 'GET', `/v1/directory/changes?after=${after}&limit=1`)
    seen.push(...page.json.changes.map((c: { cursor: string }) => c.cursor))
    if (!page.json.hasMore) break
    after = page.json.nextCursor
  }
  t.same(seen, cursors.map(String), 'paging with after= visits every change once')
  const end = await call(node.url, 'GET', `/v1/directory/changes?after=${cursors.length}`)
  t.same(end.json, { changes: [], nextCursor: null, hasMore: false })
  t.equal((await call(node.url, 'GET', '/v1/directory/changes?after=-1')).json.code, 'schema-violation')
  t.equal((await call(node.url, 'GET', '/v1/directory/changes?limit=0')).json.code, 'schema-violation')
  t.equal((await call(node.url, 'GET', '/v1/directory/changes?limit=1001')).status, 400)
})

t.test('concurrent registrations keep the feed gap-free', async (t) => {
  const before = (await call(node.url, 'GET', '/v1/directory/changes?limit=1000')).json.changes.length
  const addresses = Array.from({ length: 8 }, () => generateVaultAddress())
  const answers = await Promise.all(addresses.map((a) => putLine(node.url, NODE_ID, a, { iss: vaultB.id, key: vaultB.signingKey })))
  t.same(answers.map((a) => a.status), addresses.map(() => 201))
  const all = (await call(node.url, 'GET', '/v1/directory/changes?limit=1000')).json.changes
  t.equal(all.length, before + 8)
  t.same(all.map((c: { cursor: string }) => Number(c.cursor)), all.map((_: unknown, i: number) => i + 1))
})

t.test('the trust list is signed by the node (TMB-TRUST-014/-015/-020)', async (t) => {
  const res = await call(node.url, 'GET', '/v1/trust-list')
  t.equal(res.status, 200)
  t.equal(valid('trust-list-response.json', res.json), true)
  const sig = jwks.keys.find((k: { use: string }) => k.use === 'sig')
  const { payload, protectedHeader } = await compactVerify(res.json.trustList, await importJWK(sig, 'EdDSA'))
  t.match(protectedHeader, { alg: 'EdDSA', typ: 'timbre-trust-list+jws', kid: sig.kid })
  const list = JSON.parse(new TextDecoder().decode(payload))
  t.equal(valid('trust-list.json', list), true)
  t.equal(list.issuer, NODE_ID)
  const b = list.operators.find((o: { id: string }) => o.id === vaultB.id)
  t.ok(b.keyThumbprints.includes(vaultB.signingKey.kid))
  t.ok(b.keyThumbprints.includes(vaultB.encryptionKey.kid), 'a superseded key keeps its thumbprint')
  t.equal(b.keyThumbprints.length, 3)
  t.ok(list.operators.some((o: { id: string }) => o.id === NODE_ID))
  const c = await testOperator('vault-d.example')
  await admit(node.url, c)
  const next = JSON.parse(new TextDecoder().decode((await compactVerify((await call(node.url, 'GET', '/v1/trust-list')).json.trustList, await importJWK(sig, 'EdDSA'))).payload))
  t.ok(next.sequence > list.sequence, 'sequence grows with every change')
})

t.test('admin: operators and vault addresses behind the admin token', async (t) => {
  const op = await testOperator('vault-e.example')
  const noToken = await call(node.url, 'POST', '/v1/admin/operators', { body: { id: op.id } })
  t.equal(noToken.status, 401)
  t.equal(noToken.json.code, 'admin-unauthorized')
  const wrong = await call(node.url, 'POST', '/v1/admin/vault-addresses', { body: {}, admin: 'not-the-admin-token-at-all' })
  t.equal(wrong.status, 401)
  const priv = await call(node.url, 'POST', '/v1/admin/operators', {
    admin: true,
    body: { id: op.id, roles: ['vault-operator'], baseUrl: op.baseUrl, jwks: { keys: [op.signingKey, toPublicJwk(op.encryptionKey)] } },
  })
  t.equal(priv.status, 400, 'a private key is refused')
  t.equal(priv.json.code, 'schema-violation')
  const noEnc = await call(node.url, 'POST', '/v1/admin/operators', {
    admin: true,
    body: { id: op.id, roles: ['vault-operator'], baseUrl: op.baseUrl, jwks: { keys: [toPublicJwk(op.signingKey)] } },
  })
  t.equal(noEnc.status, 400, 'a vault operator needs an encryption key')

  const opened = await call(node.url, 'POST', '/v1/admin/vault-addresses', { admin: true, body: { reference: 'cust-42' } })
  t.equal(opened.status, 201, opened.text)
  t.equal(valid('vault-account.json', opened.json), true)
  t.match(opened.json, { operator: NODE_ID, status: 'active', reference: 'cust-42' })
  const line = await verifyDirectoryLine((await call(node.url, 'GET', `/v1/directory/addresses/${opened.json.address}`)).json.line, jwks)
  t.equal(line.operator, NODE_ID)
  t.equal(line.relayEndpoint, `${node.url}/v1/relay`)
  const empty = await call(node.url, 'POST', '/v1/admin/vault-addresses', { admin: true })
  t.equal(empty.status, 201, 'the body is optional')
})
