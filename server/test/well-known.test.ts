// Discovery, JWKS, health, readiness and the API docs over real HTTP.
import t from 'tap'
import type { AddressInfo } from 'node:net'
import { schemaValidator } from '@timbre/sdk'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { buildApp } from '../src/http/app.js'
import { loadOpenApiDocument } from '../src/http/openapi.js'
import { createLogger } from '../src/logger.js'
import type { Database } from '../src/store/schema.js'
import { startTestNode } from './helpers/node.js'
import { call } from './helpers/http.js'

const node = await startTestNode(t)

t.test('GET /.well-known/timbre is the discovery document (TMB-TRUST-010/011)', async (t) => {
  const res = await call(node.url, 'GET', '/.well-known/timbre')
  t.equal(res.status, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  const validate = schemaValidator('discovery.json')
  t.ok(validate(res.json), JSON.stringify(validate.errors))
  t.equal(res.json.nodeId, 'node-under-test')
  t.same(res.json.roles, ['routing-node', 'directory', 'vault-operator'])
  t.same(Object.keys(res.json.endpoints).sort(), ['archiveImports', 'directory', 'directoryNotifications', 'evidence', 'jwks', 'relay', 'submissions', 'trustList'])
  t.equal(res.json.endpoints.jwks, `${node.url}/.well-known/jwks.json`, 'absolute URL of the listening node')
  t.same(res.json.limits, { maxContentBytes: 10_485_760, maxRequestBytes: 15_000_000 })
  t.same(res.json.algorithms, { signature: ['EdDSA'], keyAgreement: ['ECDH-ES+A256KW'], contentEncryption: ['A256GCM'] })
  t.same(res.json.retry, { deliveryWindowSeconds: 259_200 })
  // TMB-VER-005: no tariffs → no metering profile; the vault role issues Handover (7.6) by default;
  // the directory pushes its changes and answers lookups at an instant.
  t.same(res.json.profiles, ['core', 'portability'])
  t.same(res.json.features, ['handover', 'directory-push', 'directory-history'])
})

t.test('discovery lists only the endpoints of the roles played', async (t) => {
  const vault = await startTestNode(t, { store: node.store, overrides: { roles: ['vault-operator'], baseUrl: 'https://vault-b.example' } })
  const res = await call(vault.listenUrl, 'GET', '/.well-known/timbre')
  t.same(res.json.roles, ['vault-operator'])
  t.same(res.json.endpoints, {
    relay: 'https://vault-b.example/v1/relay',
    archiveImports: 'https://vault-b.example/v1/archive-imports',
    jwks: 'https://vault-b.example/.well-known/jwks.json',
  })
  t.same(res.json.features, ['handover'], 'a vault operator issuing Handover announces it')
  const quiet = await startTestNode(t, { store: node.store, overrides: { roles: ['vault-operator'], vault: { handover: 'off' } } })
  t.same((await call(quiet.listenUrl, 'GET', '/.well-known/timbre')).json.features, [], 'handover off: not announced')
  const router = await startTestNode(t, { store: node.store, overrides: { roles: ['routing-node'], metering: { currency: 'EUR', tariffs: { standard: 5 }, terminationFees: {} } } })
  const rd = (await call(router.listenUrl, 'GET', '/.well-known/timbre')).json
  t.same(rd.profiles, ['core', 'portability', 'metering'], 'a charging routing node announces metering (11)')
  t.same(rd.features, ['directory-push'], 'a routing node without the vault role announces no handover; it accepts directory pushes')
})

t.test('GET /.well-known/jwks.json: current sig and enc keys, public members only (TMB-TRUST-004/006/009)', async (t) => {
  const res = await call(node.url, 'GET', '/.well-known/jwks.json')
  t.equal(res.status, 200)
  t.match(res.headers['cache-control'], /max-age=(\d+)/)
  t.ok(Number(/max-age=(\d+)/.exec(String(res.headers['cache-control']))![1]) <= 300)
  const validate = schemaValidator('jwks.json')
  t.ok(validate(res.json), JSON.stringify(validate.errors))
  const keys = res.json.keys as Array<Record<string, unknown>>
  t.equal(keys.length, 2)
  const sig = keys.find((k) => k.use === 'sig')!
  const enc = keys.find((k) => k.use === 'enc')!
  t.match(sig, { kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', kid: node.keys.signingKey.kid })
  t.match(enc, { kty: 'OKP', crv: 'X25519', alg: 'ECDH-ES+A256KW', kid: node.keys.encryptionKey.kid })
  for (const k of keys) {
    t.notOk('d' in k, `${k.kid as string} has no private member`)
    t.notOk('timbre_not_after' in k, 'current key has no not_after')
    t.ok(typeof k.timbre_not_before === 'string')
  }
  t.notMatch(res.text, node.keys.signingKey.d, 'private key bytes never appear')
})

t.test('GET /health and /ready (TMB-OVR-007)', async (t) => {
  const health = await call(node.url, 'GET', '/health')
  t.equal(health.status, 200)
  t.match(health.json, { status: 'ok' })
  const ready = await call(node.url, 'GET', '/ready')
  t.equal(ready.status, 200)
  t.same(ready.json, { status: 'ready', checks: { database: 'ok' } })
  const validate = schemaValidator('health.json')
  t.ok(validate(health.json) && validate(ready.json))
})

t.test('/ready answers 503 when the database is unreachable; /health stays 200', async (t) => {
  // A PostgreSQL pool aimed at a closed port: every query fails at once.
  const unreachable = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none', connectionTimeoutMillis: 500 }) }) })
  const app = await buildApp({ config: node.config, db: unreachable, keys: node.keys, logger: createLogger('silent') })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(async () => { await app.close(); await unreachable.destroy() })
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const ready = await call(url, 'GET', '/ready')
  t.equal(ready.status, 503)
  t.same(ready.json, { status: 'unavailable', checks: { database: 'failing' } })
  t.equal(ready.headers['retry-after'], '5')
  t.equal((await call(url, 'GET', '/health')).status, 200)
})

t.test('/docs serves Swagger UI over the spec OpenAPI document', async (t) => {
  const ui = await call(node.url, 'GET', '/docs')
  t.equal(ui.status, 200)
  t.match(ui.headers['content-type'], /text\/html/)
  t.match(ui.text, /swagger/i)
  const doc = await call(node.url, 'GET', '/docs/json')
  t.equal(doc.status, 200)
  t.match(doc.json.openapi, /^3\./)
  t.same(doc.json.servers, [{ url: node.url }], '"try it out" targets this node')
})

t.test('the OpenAPI document is required; a placeholder only on request', async (t) => {
  t.throws(() => loadOpenApiDocument({ path: '/nonexistent/openapi.yaml' }), /not found/)
  const placeholder = loadOpenApiDocument({ path: '/nonexistent/openapi.yaml', required: false })
  t.equal(placeholder.path, null)
  t.match(placeholder.document, { openapi: '3.1.0', paths: {} })
  const real = loadOpenApiDocument()
  const paths = Object.keys(real.document.paths as object)
  for (const p of ['/.well-known/timbre', '/.well-known/jwks.json', '/health', '/ready', '/v1/admin/senders', '/v1/admin/senders/{id}']) {
    t.ok(paths.includes(p), `spec documents ${p}`)
  }
})
