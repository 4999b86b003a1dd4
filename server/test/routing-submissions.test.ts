// POST /v1/submissions refusals (spec 5.2, in order) and idempotency (5.4).
// Every refusal: status + code, and no delivery, evidence or outbox row.
import t from 'tap'
import { createRequestProof, generateSigningKey } from '@timbre/sdk'
import { counts, until } from './helpers/routing.js'
import { routingFixture, seal, submitRaw } from './routing-setup.js'
import { call } from './helpers/http.js'

t.test('refusals store nothing', async (t) => {
  const f = await routingFixture(t, { limits: { maxRequestBytes: 200_000, maxContentBytes: 100_000 } })
  const sealed = await seal(f)
  const good = JSON.stringify({ envelope: sealed.envelope, content: sealed.content })
  const before = await counts(f.store)
  const nothingStored = async (label: string, idempotencyRecord = false) => {
    const c = await counts(f.store)
    t.equal(c.deliveries, before.deliveries, `${label}: no delivery`)
    t.equal(c.evidence, before.evidence, `${label}: no evidence`)
    t.equal(c.outbox, before.outbox, `${label}: no outbox row`)
    // TMB-IDEM-007: answers of steps 6-16 are kept as idempotency records; earlier ones are not.
    if (!idempotencyRecord) t.equal(c.idempotency, before.idempotency, `${label}: no idempotency record`)
    before.idempotency = c.idempotency
  }
  const expect = async (label: string, res: { status: number; json: any; headers: any }, status: number, code: string) => {
    t.equal(res.status, status, `${label}: status`)
    t.equal(res.json?.code, code, `${label}: code`)
    t.match(String(res.headers['content-type']), /application\/problem\+json/, `${label}: problem+json`)
  }

  let res = await submitRaw(f, { body: Buffer.alloc(300_000, 'a') })
  await expect('oversized body', res, 413, 'body-too-large')
  await nothingStored('oversized body')

  res = await submitRaw(f, { body: good, contentType: 'text/plain' })
  await expect('wrong content type', res, 415, 'unsupported-media-type')
  await nothingStored('wrong content type')

  res = await submitRaw(f, { body: good, authorization: null })
  await expect('missing proof', res, 401, 'auth-required')
  t.equal(res.headers['www-authenticate'], 'Timbre')
  await nothingStored('missing proof')

  const stranger = await generateSigningKey()
  res = await submitRaw(f, { body: good, key: stranger, iss: '0009:99999999999999' })
  await expect('unknown sender', res, 403, 'sender-unknown')
  await nothingStored('unknown sender')

  res = await submitRaw(f, { body: good, key: stranger })
  await expect('bad proof', res, 401, 'auth-invalid')
  t.equal(res.headers['www-authenticate'], 'Timbre')
  await nothingStored('bad proof')

  res = await submitRaw(f, { body: good, idempotencyKey: null })
  await expect('missing Idempotency-Key', res, 400, 'idempotency-key-missing')
  await nothingStored('missing Idempotency-Key')

  res = await submitRaw(f, { body: '{"envelope": ' })
  await expect('malformed JSON', res, 400, 'malformed-json')
  await nothingStored('malformed JSON', true)

  res = await submitRaw(f, { body: JSON.stringify({ envelope: sealed.envelope, content: sealed.content, extra: 1 }) })
  await expect('schema', res, 400, 'schema-violation')
  await nothingStored('schema', true)

  // Tampered envelope: one payload character changed, signature no longer matches.
  const [h, p, s] = sealed.envelope.split('.')
  const payload = JSON.parse(Buffer.from(p!, 'base64url').toString())
  payload.title = 'Tampered'
  const tampered = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`
  res = await submitRaw(f, { body: JSON.stringify({ envelope: tampered, content: sealed.content }) })
  await expect('tampered envelope', res, 400, 'envelope-invalid')
  await nothingStored('tampered envelope', true)

  // Swapped JWE: another document's content under this envelope.
  const other = await seal(f, { document: 'another document' })
  res = await submitRaw(f, { body: JSON.stringify({ envelope: sealed.envelope, content: other.content }) })
  await expect('tampered content', res, 422, 'content-digest-mismatch')
  await nothingStored('tampered content', true)

  // Envelope of another sender, signed by that sender: the signature fails with our sender's key.
  const otherSender = await seal(f, { key: stranger, sender: '0009:11111111111111' })
  res = await submitRaw(f, { body: JSON.stringify({ envelope: otherSender.envelope, content: otherSender.content }) })
  await expect('foreign envelope', res, 400, 'envelope-invalid')
  await nothingStored('foreign envelope', true)

  // Envelope signed by our sender but naming another sender.
  const mismatch = await seal(f, { sender: '0009:22222222222222' })
  res = await submitRaw(f, { body: JSON.stringify({ envelope: mismatch.envelope, content: mismatch.content }) })
  await expect('sender mismatch', res, 403, 'sender-mismatch')
  await nothingStored('sender mismatch', true)

  const big = await seal(f, { document: 'x'.repeat(100_001) })
  res = await submitRaw(f, { body: JSON.stringify({ envelope: big.envelope, content: big.content }) })
  await expect('content too large', res, 413, 'content-too-large')
  await nothingStored('content too large', true)

  // Unknown recipient: a valid address without a directory line.
  const ghost = await f.vault.kit.openAccount()
  await f.dir.setLine(ghost, f.vault.id)
  const forGhost = await seal(f, { address: ghost })
  f.dir.lines.delete(ghost)
  res = await submitRaw(f, { body: JSON.stringify({ envelope: forGhost.envelope, content: forGhost.content }) })
  await expect('unknown recipient', res, 404, 'recipient-unknown')
  await nothingStored('unknown recipient', true)

  // Accepted, then the same proof replayed under another key.
  const ok = await submitRaw(f, { body: good })
  t.equal(ok.status, 202)
  t.equal(ok.headers.location, `/v1/deliveries/${sealed.metadata.messageId}`)
  const afterOk = await counts(f.store)
  t.equal(afterOk.deliveries, before.deliveries + 1)
  res = await submitRaw(f, { body: good, authorization: ok.authorization })
  await expect('replayed proof', res, 401, 'request-replayed')
  const c = await counts(f.store)
  t.equal(c.deliveries, afterOk.deliveries, 'replayed proof: no delivery')
  t.equal(c.evidence >= afterOk.evidence && c.idempotency, afterOk.idempotency, 'replayed proof: no idempotency record')
  const stamps = await f.store.db.selectFrom('evidence').select('evidence_id').where('event', '=', 'SubmissionAcceptance').execute()
  t.equal(stamps.length, 1, 'one stamp in all')
})

t.test('idempotency', async (t) => {
  const f = await routingFixture(t)
  const sealed = await seal(f)
  const body = JSON.stringify({ envelope: sealed.envelope, content: sealed.content })
  const first = await submitRaw(f, { body, idempotencyKey: 'key-1' })
  t.equal(first.status, 202)
  t.notOk(first.headers['idempotency-replayed'])
  const again = await submitRaw(f, { body, idempotencyKey: 'key-1' })
  t.equal(again.status, 202)
  t.equal(again.headers['idempotency-replayed'], 'true')
  t.equal(again.text, first.text, 'byte-identical body')
  const other = await seal(f)
  const reused = await submitRaw(f, { body: JSON.stringify({ envelope: other.envelope, content: other.content }), idempotencyKey: 'key-1' })
  t.equal(reused.status, 422)
  t.equal(reused.json.code, 'idempotency-key-reused')
  // Same message, same envelope, new key: the original answer (TMB-IDEM-010).
  const sameMessage = await submitRaw(f, { body, idempotencyKey: 'key-2' })
  t.equal(sameMessage.status, 202)
  t.equal(sameMessage.headers['idempotency-replayed'], 'true')
  t.equal(sameMessage.text, first.text)
  // Same message id, another envelope: conflict (TMB-IDEM-011).
  const resealed = await seal(f, { messageId: sealed.metadata.messageId })
  const conflict = await submitRaw(f, { body: JSON.stringify({ envelope: resealed.envelope, content: resealed.content }), idempotencyKey: 'key-3' })
  t.equal(conflict.status, 409)
  t.equal(conflict.json.code, 'message-id-conflict')
  const c = await counts(f.store)
  t.equal(c.deliveries, 1)
  t.equal((await f.store.db.selectFrom('evidence').select('evidence_id').where('event', '=', 'SubmissionAcceptance').execute()).length, 1)

  // Concurrent, same key and body: one is processed, the other is told it is in progress.
  f.dir.lookupDelayMs = 300
  const third = await seal(f)
  const body3 = JSON.stringify({ envelope: third.envelope, content: third.content })
  const [a, b] = await Promise.all([submitRaw(f, { body: body3, idempotencyKey: 'key-c' }), submitRaw(f, { body: body3, idempotencyKey: 'key-c' })])
  f.dir.lookupDelayMs = 0
  t.same([a.status, b.status].sort(), [202, 409])
  const loser = a.status === 409 ? a : b
  t.equal(loser.json.code, 'idempotency-in-progress')
  t.ok(loser.headers['retry-after'], 'Retry-After on in-progress')
  t.equal((await counts(f.store)).deliveries, 2)
})

// Group commit: concurrent submissions share step 18's transaction; a
// conflict inside a batch (same message id, same proof) must be answered
// exactly as it is when the requests come one by one.
t.test('a burst with duplicates inside it: each message once, each answer as if alone', async (t) => {
  const f = await routingFixture(t)
  const before = await counts(f.store)
  const distinct = await Promise.all(Array.from({ length: 24 }, () => seal(f)))
  const twice = await Promise.all(Array.from({ length: 3 }, () => seal(f)))
  const sharedProof = await seal(f)
  const bodyOf = (s: { envelope: string; content: string }) => JSON.stringify({ envelope: s.envelope, content: s.content })
  const proof = await createRequestProof({ key: f.sender.privateJwk, iss: f.sender.id, aud: f.node.config.nodeId, method: 'POST', path: '/v1/submissions', body: bodyOf(sharedProof) })
  // Every request reaches step 18 at about the same time, while a batch is being written.
  f.dir.lookupDelayMs = 200
  const [single, doubled, proofed] = await Promise.all([
    Promise.all(distinct.map((s) => submitRaw(f, { body: bodyOf(s) }))),
    Promise.all(twice.flatMap((s) => [submitRaw(f, { body: bodyOf(s) }), submitRaw(f, { body: bodyOf(s) })])),
    Promise.all([submitRaw(f, { body: bodyOf(sharedProof), authorization: proof }), submitRaw(f, { body: bodyOf(sharedProof), authorization: proof })]),
  ])
  f.dir.lookupDelayMs = 0
  t.same(single.map((r) => r.status), single.map(() => 202), 'every distinct message accepted')
  t.notOk(single.some((r) => r.headers['idempotency-replayed']), 'none of them a replay')
  t.equal(new Set(single.map((r) => r.json.stamp)).size, 24, '24 stamps')
  for (let i = 0; i < twice.length; i++) {
    const [a, b] = [doubled[2 * i]!, doubled[2 * i + 1]!]
    t.same([a.status, b.status], [202, 202], `message ${i}: both answered 202`)
    t.equal([a, b].filter((r) => r.headers['idempotency-replayed'] === 'true').length, 1, `message ${i}: one original, one replay (TMB-IDEM-010)`)
    t.equal(a.text, b.text, `message ${i}: the same stamp`)
  }
  t.same(proofed.map((r) => r.status).sort(), [202, 401], 'a proof used twice: one accepted, one refused')
  t.equal(proofed.find((r) => r.status === 401)?.json.code, 'request-replayed')
  const c = await counts(f.store)
  t.equal(c.deliveries - before.deliveries, 28, 'one delivery per message')
  const stamps = await f.store.db.selectFrom('evidence').select('evidence_id').where('event', '=', 'SubmissionAcceptance').execute()
  t.equal(stamps.length, 28, 'one stamp evidence per message')
  const open = await f.store.db.selectFrom('idempotency_keys').select('key').where('state', '=', 'in_progress').execute()
  t.equal(open.length, 0, 'no key left in progress')
  // Each message had its relay job: all 28 reach the vault, once each.
  const messageIds = [...distinct, ...twice, sharedProof].map((s) => s.metadata.messageId)
  await until(async () => {
    const rows = await f.store.db.selectFrom('deliveries').select('status').where('message_id', 'in', messageIds).execute()
    return rows.length === 28 && rows.every((r) => r.status === 'delivered')
  }, 60_000)
  const held = (await f.vault.kit.documents(f.address)).map((d) => d.messageId).filter((m) => messageIds.includes(m))
  t.equal(held.length, 28, 'the vault holds each message once')
  t.equal(new Set(held).size, 28)
})

t.test('delivery reads are per sender', async (t) => {
  const f = await routingFixture(t)
  const receipt = await f.sender.client.deliver({ to: f.address, document: 'x', type: 'invoice', title: 'Invoice' })
  const path = `/v1/deliveries/${receipt.messageId}`
  const stranger = await generateSigningKey()
  const { registerSender } = await import('./helpers/routing.js')
  const other = await registerSender(f.node, f.store, f.dir)
  const auth = await createRequestProof({ key: other.privateJwk, iss: other.id, aud: f.node.config.nodeId, method: 'GET', path })
  const res = await call(f.node.listenUrl, 'GET', path, { headers: { authorization: auth } })
  t.equal(res.status, 404)
  t.equal(res.json.code, 'not-found')
  const mine = await createRequestProof({ key: f.sender.privateJwk, iss: f.sender.id, aud: f.node.config.nodeId, method: 'GET', path })
  const ok = await call(f.node.listenUrl, 'GET', path, { headers: { authorization: mine } })
  t.equal(ok.status, 200)
  t.equal(ok.json.messageId, receipt.messageId)
  const replay = await call(f.node.listenUrl, 'GET', path, { headers: { authorization: mine } })
  t.equal(replay.json.code, 'request-replayed')
  void stranger
})

// The sender's key and status are cached in-process (server/src/store/sender-cache.ts):
// a change through this node's admin API applies to the very next submission.
t.test('a sender disabled through the admin API is refused at once', async (t) => {
  const f = await routingFixture(t)
  const first = await seal(f)
  const firstBody = JSON.stringify({ envelope: first.envelope, content: first.content })
  const ok = await submitRaw(f, { body: firstBody, idempotencyKey: 'k-cached-1' })
  t.equal(ok.status, 202, 'accepted while active (the sender is now cached)')
  // Step 3's replay check (folded into step 5's insert) still answers before idempotency and step 4.
  const sameKey = await submitRaw(f, { body: firstBody, idempotencyKey: 'k-cached-1', authorization: ok.authorization })
  t.equal(sameKey.json?.code, 'request-replayed', 'replayed proof, same key: request-replayed, not an idempotent replay')
  const noKey = await submitRaw(f, { body: firstBody, idempotencyKey: null, authorization: ok.authorization })
  t.equal(noKey.json?.code, 'request-replayed', 'replayed proof, no key: request-replayed first')
  const path = `/v1/admin/senders/${encodeURIComponent(f.sender.id)}`
  t.equal((await call(f.node.listenUrl, 'PATCH', path, { admin: true, body: { status: 'disabled' } })).status, 200)
  const second = await seal(f)
  const refused = await submitRaw(f, { body: JSON.stringify({ envelope: second.envelope, content: second.content }) })
  t.equal(refused.status, 403)
  t.equal(refused.json?.code, 'sender-disabled')
  t.equal((await call(f.node.listenUrl, 'PATCH', path, { admin: true, body: { status: 'active' } })).status, 200)
  const third = await seal(f)
  const again = await submitRaw(f, { body: JSON.stringify({ envelope: third.envelope, content: third.content }) })
  t.equal(again.status, 202, 'accepted again once re-enabled')
})
