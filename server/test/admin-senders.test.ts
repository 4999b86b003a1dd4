// The operator admin API for senders: bearer auth, register, list, read,
// disable/enable, webhook, key replacement (design notes §8, TMB-TRUST-005).
import t from 'tap'
import { schemaValidator } from '@timbre/sdk'
import { startTestNode, TEST_ADMIN_TOKEN } from './helpers/node.js'
import { call } from './helpers/http.js'
import { senderKey } from './helpers/keys.js'

const node = await startTestNode(t)
const url = node.listenUrl
const validSender = schemaValidator('sender.json')
const validList = schemaValidator('sender-list.json')

t.test('admin auth: missing, wrong or malformed token → 401 admin-unauthorized; nothing stored', async (t) => {
  const key = await senderKey()
  const body = { id: '0009:AUTH1', jwk: key.bare }
  const attempts: Array<Record<string, string>> = [{}, { authorization: 'Bearer wrong-token-xxxxxxxxxxxx' }, { authorization: `Basic ${TEST_ADMIN_TOKEN}` }, { authorization: `Bearer ${TEST_ADMIN_TOKEN}x` }]
  for (const headers of attempts) {
    const res = await call(url, 'POST', '/v1/admin/senders', { body, headers })
    t.equal(res.status, 401)
    t.equal(res.json.code, 'admin-unauthorized')
    t.match(res.headers['www-authenticate'], /^Bearer/)
  }
  t.equal((await call(url, 'GET', '/v1/admin/senders')).status, 401)
  t.equal((await call(url, 'GET', '/v1/admin/senders/0009:AUTH1', { admin: true })).status, 404, 'nothing was stored')
})

t.test('register, read, list', async (t) => {
  const key = await senderKey()
  const created = await call(url, 'POST', '/v1/admin/senders', {
    admin: true,
    body: { id: '0009:12345678900011', name: 'ACME Payroll', jwk: key.bare, webhookUrl: 'https://hooks.acme.example/timbre' },
  })
  t.equal(created.status, 201, created.text)
  t.ok(validSender(created.json), JSON.stringify(validSender.errors))
  t.match(created.json, { id: '0009:12345678900011', name: 'ACME Payroll', kid: key.publicJwk.kid, status: 'active', webhookUrl: 'https://hooks.acme.example/timbre' })
  t.equal(created.json.jwk.kid, key.publicJwk.kid, 'kid is the RFC 7638 thumbprint')
  t.equal(created.headers.location, '/v1/admin/senders/0009%3A12345678900011')

  const read = await call(url, 'GET', created.headers.location as string, { admin: true })
  t.equal(read.status, 200)
  t.same(read.json, created.json)

  const again = await call(url, 'POST', '/v1/admin/senders', { admin: true, body: { id: '0009:12345678900011', jwk: key.bare } })
  t.equal(again.status, 409)
  t.equal(again.json.code, 'sender-exists')

  const list = await call(url, 'GET', '/v1/admin/senders', { admin: true })
  t.equal(list.status, 200)
  t.ok(validList(list.json), JSON.stringify(validList.errors))
  t.ok(list.json.senders.some((s: { id: string }) => s.id === '0009:12345678900011'))
})

t.test('list pages by id', async (t) => {
  for (const n of [1, 2, 3]) {
    const key = await senderKey()
    t.equal((await call(url, 'POST', '/v1/admin/senders', { admin: true, body: { id: `0088:PAGE${n}`, jwk: key.bare } })).status, 201)
  }
  const first = await call(url, 'GET', '/v1/admin/senders?limit=2', { admin: true })
  t.equal(first.json.senders.length, 2)
  const next = await call(url, 'GET', `/v1/admin/senders?limit=2&after=${encodeURIComponent(first.json.senders[1].id)}`, { admin: true })
  t.ok(next.json.senders.length >= 1)
  t.ok(next.json.senders[0].id > first.json.senders[1].id)
  t.equal((await call(url, 'GET', '/v1/admin/senders?limit=0', { admin: true })).json.code, 'schema-violation')
})

t.test('rejects bad ids, private keys, non-Ed25519 keys and bad webhooks; nothing stored', async (t) => {
  const key = await senderKey()
  const cases: Array<[string, Record<string, unknown>]> = [
    ['bad id', { id: '9:abc', jwk: key.bare }],
    ['id with spaces', { id: '0009:a b', jwk: key.bare }],
    ['private key (d)', { id: '0009:PRIV', jwk: { ...key.bare, d: key.privateJwk.d } }],
    ['X25519 key', { id: '0009:X', jwk: { kty: 'OKP', crv: 'X25519', x: key.bare.x } }],
    ['kid not the thumbprint', { id: '0009:KID', jwk: { ...key.bare, kid: 'not-the-thumbprint' } }],
    ['ftp webhook', { id: '0009:HOOK', jwk: key.bare, webhookUrl: 'ftp://example.com/x' }],
    ['unknown member', { id: '0009:MEMBER', jwk: key.bare, secret: 'x' }],
  ]
  for (const [name, body] of cases) {
    const res = await call(url, 'POST', '/v1/admin/senders', { admin: true, body })
    t.equal(res.status, 400, `${name}: 400`)
    t.equal(res.json.code, 'schema-violation', `${name}: schema-violation`)
    t.notMatch(res.text, key.privateJwk.d, `${name}: no key material echoed`)
    if (typeof body.id === 'string' && /^[0-9]{4}:/.test(body.id)) {
      t.equal((await call(url, 'GET', `/v1/admin/senders/${encodeURIComponent(body.id)}`, { admin: true })).status, 404, `${name}: nothing stored`)
    }
  }
})

t.test('PATCH: disable, enable, set and clear webhook, replace key', async (t) => {
  const key = await senderKey()
  const id = '0002:PATCHME'
  t.equal((await call(url, 'POST', '/v1/admin/senders', { admin: true, body: { id, jwk: key.bare } })).status, 201)
  const path = `/v1/admin/senders/${encodeURIComponent(id)}`

  const disabled = await call(url, 'PATCH', path, { admin: true, body: { status: 'disabled' } })
  t.equal(disabled.status, 200)
  t.ok(validSender(disabled.json))
  t.equal(disabled.json.status, 'disabled')
  t.equal((await call(url, 'GET', path, { admin: true })).json.status, 'disabled', 'persisted')

  t.equal((await call(url, 'PATCH', path, { admin: true, body: { status: 'active' } })).json.status, 'active')

  const hooked = await call(url, 'PATCH', path, { admin: true, body: { webhookUrl: 'http://127.0.0.1:9999/hook' } })
  t.equal(hooked.json.webhookUrl, 'http://127.0.0.1:9999/hook')
  const cleared = await call(url, 'PATCH', path, { admin: true, body: { webhookUrl: null } })
  t.notOk('webhookUrl' in cleared.json)

  const next = await senderKey()
  const rotated = await call(url, 'PATCH', path, { admin: true, body: { jwk: next.bare } })
  t.equal(rotated.json.kid, next.publicJwk.kid)

  t.equal((await call(url, 'PATCH', path, { admin: true, body: {} })).json.code, 'schema-violation', 'empty patch')
  t.equal((await call(url, 'PATCH', path, { admin: true, body: { status: 'deleted' } })).json.code, 'schema-violation')
  t.equal((await call(url, 'PATCH', path, { admin: true, body: { jwk: { ...next.bare, d: next.privateJwk.d } } })).json.code, 'schema-violation')

  const unknown = await call(url, 'PATCH', '/v1/admin/senders/0002:NOBODY', { admin: true, body: { status: 'disabled' } })
  t.equal(unknown.status, 404)
  t.equal(unknown.json.code, 'not-found')
})
