// The worker against a misbehaving vault (spec 10), the delivery window,
// recipient-moved and re-route (9.5), and webhooks (7.7).
import t from 'tap'
import Fastify from 'fastify'
import { createRequestProof, sealEnvelope, TimbreClient, verifyEvidence, type WebhookEvent } from '@timbre/sdk'
import { counts, startVault, until } from './helpers/routing.js'
import { routingFixture } from './routing-setup.js'
import { call } from './helpers/http.js'

async function status(f: Awaited<ReturnType<typeof routingFixture>>, messageId: string) {
  return f.sender.client.status(messageId)
}

t.test('vault down, slow, then 503 with Retry-After: every document arrives exactly once', async (t) => {
  const f = await routingFixture(t, { delivery: { relayTimeoutMs: 300, leaseMs: 2_000, windowSeconds: 60 } })
  f.vault.mode = { kind: 'down' }
  const ids: string[] = []
  for (let i = 0; i < 5; i++) ids.push((await f.sender.client.deliver({ to: f.address, document: `doc ${i}`, type: 'statement', title: `S${i}` })).messageId)
  await until(async () => f.vault.hits >= 10)
  f.vault.mode = { kind: 'slow', ms: 600 } // beyond the relay timeout
  const slowFrom = f.vault.hits
  await until(async () => f.vault.hits >= slowFrom + 5)
  f.vault.mode = { kind: 'unavailable', retryAfter: 1 }
  const from503 = f.vault.hits
  await until(async () => f.vault.hits >= from503 + 5)
  const waiting = await status(f, ids[0]!)
  t.equal(waiting.status, 'relaying')
  t.ok((waiting.attempts ?? 0) >= 2, 'several attempts recorded')
  const sinceBack = Date.now()
  f.vault.mode = { kind: 'ok' }
  for (const id of ids) t.equal((await f.sender.client.waitForDelivery(id, { timeoutMs: 10_000, intervalMs: 20 })).status, 'delivered')
  t.ok(Date.now() - sinceBack >= 900, 'Retry-After: 1 was honoured as a lower bound')
  // Slow answers may have deposited before the timeout: still one deposit per message.
  const docs = await f.vault.kit.documents(f.address)
  t.equal(docs.length, 5, 'exactly one deposit each')
  t.same(new Set(docs.map((d) => d.messageId)), new Set(ids))
  for (const id of ids) {
    const rows = await f.store.db.selectFrom('evidence').select('event').where('message_id', '=', id).execute()
    t.same(rows.map((r) => r.event).sort(), ['DepositAcceptance', 'RelayAcceptance', 'SubmissionAcceptance'], `${id}: one of each`)
  }
})

t.test('window elapses: signed RelayFailure, status failed', async (t) => {
  const f = await routingFixture(t, { delivery: { windowSeconds: 1 } })
  f.vault.mode = { kind: 'down' }
  const r = await f.sender.client.deliver({ to: f.address, document: 'late', type: 'other', title: 'Late' })
  const final = await f.sender.client.waitForDelivery(r.messageId, { timeoutMs: 5_000, intervalMs: 20 })
  t.equal(final.status, 'failed')
  t.equal(final.reason?.code, 'delivery-window-expired')
  t.match(final.reason?.detail, /network/)
  const chain = await f.sender.client.evidence(r.messageId)
  const failure = chain.at(-1)!
  t.equal(failure.evidence.event, 'RelayFailure')
  await verifyEvidence(failure.jws, f.node.keys.jwks(), { issuer: f.node.config.nodeId, event: 'RelayFailure' })
  t.equal(failure.evidence.previousEvidenceId, r.stamp.evidenceId)
  t.equal((await counts(f.store)).outbox, 0)
})

t.test('recipient-moved → rerouting; the SDK re-routes to a second vault; webhooks verify', async (t) => {
  const events: WebhookEvent[] = []
  const bodies: string[] = []
  const hook = Fastify()
  let client: TimbreClient | undefined
  let switched!: () => void
  const lineSwitched = new Promise<void>((resolve) => { switched = resolve })
  hook.addContentTypeParser('application/json', { parseAs: 'string' }, (_r, b, done) => done(null, b))
  hook.post('/hook', async (req, reply) => {
    bodies.push(req.body as string)
    await lineSwitched
    // verifyWebhook re-routes a rerouting delivery by itself (TMB-PORT-028).
    events.push(await client!.verifyWebhook({ headers: req.headers, body: req.body as string }))
    return reply.code(204).send()
  })
  await hook.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => hook.close())
  const hookUrl = `http://127.0.0.1:${(hook.server.address() as { port: number }).port}/hook`
  const f = await routingFixture(t, {}, { webhookUrl: hookUrl })
  client = f.sender.client
  const vaultB = await startVault(t, 'vault-b.test', f.dir, () => f.node)
  await vaultB.storage.openAccount(f.address)
  // The address moved to B before the relay reaches A: A answers 409 recipient-moved.
  await f.vault.storage.markMoved!(f.address, vaultB.id)
  const r = await f.sender.client.deliver({ to: f.address, document: 'moving doc', type: 'contract', title: 'Contract', mediaType: 'text/plain' })
  await until(async () => (await f.store.db.selectFrom('deliveries').select('status').executeTakeFirstOrThrow()).status === 'rerouting')
  const row = await f.store.db.selectFrom('deliveries').selectAll().executeTakeFirstOrThrow()
  t.equal(row.final_at, null, 'rerouting is not final')
  t.equal(row.reason?.code, 'recipient-moved')
  const rejection = await f.store.db.selectFrom('evidence').select(['evidence_id', 'jws']).where('event', '=', 'RelayRejection').executeTakeFirstOrThrow()
  await f.dir.setLine(f.address, vaultB.id)
  switched()
  const final = await f.sender.client.waitForDelivery(r.messageId, { timeoutMs: 10_000, intervalMs: 20 })
  t.equal(final.status, 'delivered')
  t.equal(final.recipientOperator, vaultB.id)
  t.equal((await vaultB.kit.documents(f.address)).length, 1)
  t.equal((await f.vault.kit.documents(f.address)).length, 0)
  const chain = await f.sender.client.evidence(r.messageId)
  t.same(chain.map((e) => e.evidence.event), ['SubmissionAcceptance', 'DepositRejection', 'RelayRejection', 'SubmissionAcceptance', 'DepositAcceptance', 'RelayAcceptance'])
  const rerouteStamp = chain[3]!.evidence
  t.equal(rerouteStamp.recipientOperator, vaultB.id)
  t.equal(rerouteStamp.stampClass, 'standard')
  t.equal(rerouteStamp.previousEvidenceId, rejection.evidence_id, 'the re-route stamp follows the RelayRejection')
  t.equal(chain[2]!.evidence.reason?.code, 'recipient-moved')
  t.equal((await f.store.db.selectFrom('deliveries').select('window_ends_at').executeTakeFirstOrThrow()).window_ends_at.getTime(), row.window_ends_at.getTime(), 'window not extended')

  // A re-route of a delivered message is refused (TMB-PORT-026).
  const lineB = (await f.dir.lookup(f.address))!
  const sealed = await sealEnvelope({
    messageId: r.messageId, sender: f.sender.id, recipient: f.address, documentType: 'contract', title: 'Contract',
    mediaType: 'text/plain', document: 'moving doc', senderKey: f.sender.privateJwk, recipientKey: lineB.line.encryptionKeys[0]!,
  })
  const path = `/v1/deliveries/${r.messageId}/reroute`
  const body = JSON.stringify({ envelope: sealed.envelope, content: sealed.content })
  const authorization = await createRequestProof({ key: f.sender.privateJwk, iss: f.sender.id, aud: f.node.config.nodeId, method: 'POST', path, body })
  const again = await call(f.node.listenUrl, 'POST', path, { body, headers: { 'content-type': 'application/json', authorization, 'idempotency-key': 'reroute-x' } })
  t.equal(again.status, 409)
  t.equal(again.json.code, 'message-id-conflict')

  await until(async () => events.length >= 2)
  t.same(events.map((e) => [e.status, e.evidence.event]), [['rerouting', 'RelayRejection'], ['delivered', 'RelayAcceptance']])
  t.equal(bodies.length, 2, 'one webhook per status change')
})

t.test('webhooks are retried until answered', async (t) => {
  let calls = 0
  const ids: string[] = []
  const hook = Fastify()
  hook.post('/hook', async (req, reply) => {
    calls++
    ids.push(String(req.headers['webhook-id']))
    return reply.code(calls < 3 ? 500 : 204).send()
  })
  await hook.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => hook.close())
  const f = await routingFixture(t, { delivery: { webhookRetrySeconds: [0.05, 0.05, 0.05] } }, { webhookUrl: `http://127.0.0.1:${(hook.server.address() as { port: number }).port}/hook` })
  const r = await f.sender.client.deliver({ to: f.address, document: 'x', type: 'invoice', title: 'I' })
  await until(async () => calls >= 3)
  t.equal(new Set(ids).size, 1, 'the same webhook-id on every retry')
  await until(async () => (await counts(f.store)).outbox === 0)
  void r
})
