// The vault-operator role over real HTTP, with two nodes: A plays
// routing-node + directory, B only vault-operator with its own database and
// A as its remote directory. B opens an account (its line is registered at
// A by a signed PUT), then A relays a document into it (spec chapter 6, 8).
import t from 'tap'
import {
  createRequestProof,
  generateSigningKey,
  sealEnvelope,
  signEvidence,
  toPublicJwk,
  tokenDigest,
  uuidv7,
  verifyDirectoryLine,
  verifyEvidence,
  type PrivateJwk,
} from '@timbre/sdk'
import { call } from './helpers/http.js'
import { startTestNode } from './helpers/node.js'
import { testStore } from './helpers/db.js'
import { admit, testOperator } from './helpers/directory.js'

const SENDER = '0009:12345678900011'
const a = await startTestNode(t, { overrides: { nodeId: 'directory-a', roles: ['routing-node', 'directory'] } })
const b = await startTestNode(t, { store: await testStore(t), overrides: { nodeId: 'vault-b', roles: ['vault-operator'], directoryUrl: a.url } })
const aJwks = (await call(a.url, 'GET', '/.well-known/jwks.json')).json
const bJwks = (await call(b.url, 'GET', '/.well-known/jwks.json')).json

// The directory operator admits B (a remote directory is never written by B's start).
const admitted = await call(a.url, 'POST', '/v1/admin/operators', { admin: true, body: { id: 'vault-b', roles: ['vault-operator'], baseUrl: b.url, jwks: bJwks } })
if (admitted.status !== 201) throw new Error(admitted.text)

const senderKey = await generateSigningKey()
const bEnc = bJwks.keys.find((k: { use: string }) => k.use === 'enc')

async function relay(address: string, route: string, o: { iss?: string; key?: PrivateJwk; messageId?: string; document?: string } = {}) {
  const iss = o.iss ?? 'directory-a'
  const key = o.key ?? a.keys.signingKey
  const sealed = await sealEnvelope({
    messageId: o.messageId ?? uuidv7(),
    sender: SENDER,
    recipient: address,
    documentType: 'payslip',
    title: 'Payslip',
    mediaType: 'application/pdf',
    document: o.document ?? '%PDF-1.7 payslip',
    senderKey,
    recipientKey: bEnc,
  })
  const m = sealed.metadata
  const { jws: stamp } = await signEvidence(
    { event: 'SubmissionAcceptance', issuer: iss, messageId: m.messageId, sender: m.sender, recipient: m.recipient, contentDigest: m.content.digest, envelopeDigest: tokenDigest(sealed.envelope), senderKid: senderKey.kid, stampClass: 'standard' },
    key,
  )
  const body = JSON.stringify({ envelope: sealed.envelope, content: sealed.content, stamp, senderKey: toPublicJwk(senderKey), route })
  const send = async () => {
    const authorization = await createRequestProof({ key, iss, aud: 'vault-b', method: 'POST', path: '/v1/relay', body })
    return call(b.url, 'POST', '/v1/relay', { body, headers: { 'content-type': 'application/json', authorization } })
  }
  return { sealed, send }
}

let address: string
let route: string

t.test('a vault-operator-only node registers its address at the remote directory', async (t) => {
  const opened = await call(b.url, 'POST', '/v1/admin/vault-addresses', { admin: true, body: {} })
  t.equal(opened.status, 201, opened.text)
  address = opened.json.address
  t.equal(opened.json.operator, 'vault-b')
  const lookup = await call(a.url, 'GET', `/v1/directory/addresses/${address}`)
  t.equal(lookup.status, 200)
  route = lookup.json.line
  const line = await verifyDirectoryLine(route, aJwks)
  t.match(line, { address, operator: 'vault-b', relayEndpoint: `${b.url}/v1/relay`, issuer: 'directory-a', version: 1 })
  t.same(line.encryptionKeys.map((k) => k.kid), [bEnc.kid])
  const viaB = await b.directory.lookup(address)
  t.equal(viaB?.line.operator, 'vault-b', "B's RemoteDirectory verifies A's line")
  t.equal(await b.directory.lookup(address.slice(0, 15) + (address[15] === '0' ? '1' : '0')).catch((e) => e.code), 'unavailable', 'a lookup the directory refuses is not an answer')
  t.same((await b.directory.operator('directory-a'))?.roles, ['routing-node', 'directory'])
  t.ok(await b.directory.nodeKey('directory-a', a.keys.signingKey.kid))
  t.same((await b.directory.directoryKeys()).map((k) => k.kid), [a.keys.signingKey.kid])
  t.equal(await b.directory.operator('nobody.example'), undefined)
})

t.test('a relay by the registered routing node deposits once; a repeat gets the same evidence', async (t) => {
  const r = await relay(address, route)
  const first = await r.send()
  t.equal(first.status, 201, first.text)
  const evidence = await verifyEvidence(first.json.evidence, bJwks, { issuer: 'vault-b', event: 'DepositAcceptance', messageId: r.sealed.metadata.messageId })
  t.equal(evidence.recipientOperator, 'vault-b')
  const again = await r.send()
  t.equal(again.status, 200)
  t.equal(again.json.evidence, first.json.evidence, 'the original evidence')
  const rows = await b.store.db.selectFrom('vault_deposits').select(['message_id', 'size']).where('address', '=', address).execute()
  t.equal(rows.length, 1, 'stored once')
  const concurrent = await relay(address, route)
  const answers = await Promise.all(Array.from({ length: 5 }, () => concurrent.send()))
  t.same(answers.map((x) => x.status).sort(), [200, 200, 200, 200, 201], 'exactly one concurrent relay deposits')
  t.equal(new Set(answers.map((x) => x.json.evidence)).size, 1)
})

t.test('relays from nodes the directory does not trust as routing nodes are refused', async (t) => {
  const rogueKey = await generateSigningKey()
  const rogue = await (await relay(address, route, { iss: 'rogue.example', key: rogueKey })).send()
  t.equal(rogue.status, 403)
  t.equal(rogue.json.code, 'node-untrusted')
  t.match(rogue.headers['content-type'], /application\/problem\+json/)
  // A vault operator is admitted, but not as a routing node.
  const c = await testOperator('vault-c.example')
  await admit(a.url, c)
  const notRouter = await (await relay(address, route, { iss: c.id, key: c.signingKey })).send()
  t.equal(notRouter.status, 403)
  t.equal(notRouter.json.code, 'node-untrusted')
  const unknown = await (await relay('K7QM3X9R2VHD8P7H', route)).send()
  t.equal(unknown.status, 400, 'a route for another address is not a route')
})

t.test('the relay parser and the JSON parser live side by side', async (t) => {
  const wrongType = await call(b.url, 'POST', '/v1/relay', { body: 'x', headers: { 'content-type': 'text/plain' } })
  t.equal(wrongType.status, 415)
  t.match(wrongType.headers['content-type'], /application\/problem\+json/)
  const admin = await call(b.url, 'POST', '/v1/admin/vault-addresses', { admin: true, body: '{"reference": ', headers: { 'content-type': 'application/json' } })
  t.equal(admin.status, 400)
  t.equal(admin.json.code, 'malformed-json')
  const noDirectoryRoutes = await call(b.url, 'GET', `/v1/directory/addresses/${address}`)
  t.equal(noDirectoryRoutes.status, 404, 'B does not play the directory role')
  t.equal((await call(a.url, 'POST', '/v1/relay', { body: {} })).status, 404, 'A does not play the vault role')
})
