// Every error is RFC 9457 problem+json with a code from the spec (design
// notes §9; TMB-OVR-004/005/011), including the framework's own failures.
import t, { type Test } from 'tap'
import { schemaValidator } from '@timbre/sdk'
import { startTestNode } from './helpers/node.js'
import { call, type Answer } from './helpers/http.js'

// Small limits so the oversized-body case needs no megabytes.
const node = await startTestNode(t, { overrides: { limits: { maxContentBytes: 1024, maxRequestBytes: 2048 } } })
const validProblem = schemaValidator('problem.json')

function isProblem(t: Test, res: Answer, status: number, code: string): void {
  t.equal(res.status, status, `status ${status}`)
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  t.ok(validProblem(res.json), JSON.stringify(validProblem.errors))
  t.equal(res.json.code, code)
  t.equal(res.json.type, `https://timbre.dev/problems/${code}`)
  t.equal(res.json.status, status)
  t.equal(res.json.requestId, res.headers['request-id'], 'requestId matches the Request-Id header')
  t.equal(res.headers['x-request-id'], res.headers['request-id'])
  t.notMatch(res.text, /at .*\.(ts|js):\d+/, 'no stack trace')
}

t.test('unknown path → 404 not-found', async (t) => {
  isProblem(t, await call(node.listenUrl, 'GET', '/v1/nothing-here'), 404, 'not-found')
})

t.test('known path, wrong method → 405 method-not-allowed with Allow', async (t) => {
  const res = await call(node.listenUrl, 'DELETE', '/.well-known/timbre')
  isProblem(t, res, 405, 'method-not-allowed')
  t.equal(res.headers.allow, 'GET, HEAD')
  const senders = await call(node.listenUrl, 'PUT', '/v1/admin/senders/0009:123', { admin: true, body: {} })
  isProblem(t, senders, 405, 'method-not-allowed')
  t.match(senders.headers.allow, /GET.*PATCH/)
})

t.test('malformed JSON → 400 malformed-json', async (t) => {
  const res = await call(node.listenUrl, 'POST', '/v1/admin/senders', { admin: true, body: '{"id": ', headers: { 'content-type': 'application/json' } })
  isProblem(t, res, 400, 'malformed-json')
  const empty = await call(node.listenUrl, 'POST', '/v1/admin/senders', { admin: true, body: '', headers: { 'content-type': 'application/json', 'content-length': '0' } })
  // An empty body with a JSON content type is not JSON either.
  t.ok([400].includes(empty.status))
  t.ok(['malformed-json', 'schema-violation'].includes(empty.json.code))
  const badUtf8 = await call(node.listenUrl, 'POST', '/v1/admin/senders', { admin: true, body: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]), headers: { 'content-type': 'application/json' } })
  isProblem(t, badUtf8, 400, 'malformed-json')
  const proto = await call(node.listenUrl, 'POST', '/v1/admin/senders', { admin: true, body: '{"__proto__": {"x": 1}}', headers: { 'content-type': 'application/json' } })
  isProblem(t, proto, 400, 'malformed-json')
})

t.test('wrong content type → 415 unsupported-media-type', async (t) => {
  isProblem(t, await call(node.listenUrl, 'POST', '/v1/admin/senders', { admin: true, body: 'id=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'unsupported-media-type')
  isProblem(t, await call(node.listenUrl, 'POST', '/v1/admin/senders', { admin: true, body: '{}', headers: { 'content-type': 'text/plain' } }), 415, 'unsupported-media-type')
  // A charset parameter and +json media types are fine.
  const charset = await call(node.listenUrl, 'POST', '/v1/admin/senders', { admin: true, body: '{}', headers: { 'content-type': 'application/json; charset=utf-8' } })
  t.equal(charset.json.code, 'schema-violation', 'parsed, then refused by the schema')
})

t.test('oversized body → 413 body-too-large (limit = discovery maxRequestBytes, TMB-TRUST-012)', async (t) => {
  const discovery = await call(node.listenUrl, 'GET', '/.well-known/timbre')
  t.equal(discovery.json.limits.maxRequestBytes, 2048)
  const big = JSON.stringify({ id: '0009:1', pad: 'x'.repeat(3000) })
  isProblem(t, await call(node.listenUrl, 'POST', '/v1/admin/senders', { admin: true, body: big, headers: { 'content-type': 'application/json' } }), 413, 'body-too-large')
})

t.test('schema violation → 400 schema-violation with errors[]', async (t) => {
  const res = await call(node.listenUrl, 'POST', '/v1/admin/senders', { admin: true, body: { id: 'nope', jwk: {}, extra: 1 } })
  isProblem(t, res, 400, 'schema-violation')
  t.ok(Array.isArray(res.json.errors) && res.json.errors.length > 0)
})

t.test('a sane incoming request id is honoured and echoed; an odd one replaced', async (t) => {
  const res = await call(node.listenUrl, 'GET', '/nope', { headers: { 'x-request-id': 'trace-abc.123' } })
  t.equal(res.headers['request-id'], 'trace-abc.123')
  t.equal(res.json.requestId, 'trace-abc.123')
  const spec = await call(node.listenUrl, 'GET', '/health', { headers: { 'request-id': 'from-spec-header' } })
  t.equal(spec.headers['request-id'], 'from-spec-header')
  const odd = await call(node.listenUrl, 'GET', '/nope', { headers: { 'x-request-id': 'bad id\twith spaces' } })
  t.not(odd.headers['request-id'], 'bad id\twith spaces')
  t.match(odd.headers['request-id'], /^[0-9a-f-]{36}$/)
})
