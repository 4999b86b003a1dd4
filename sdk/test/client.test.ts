import t, { type Test } from 'tap'
import Fastify from 'fastify'
import { createServer, type Server, type Socket } from 'node:net'
import { Dispatcher } from 'undici'
import {
  TimbreError,
  createRequestProof,
  generateEncryptionKey,
  generateSigningKey,
  generateVaultAddress,
  problemFor,
  signDirectoryLine,
  signEvidence,
  signWebhook,
  toPublicJwk,
  tokenDigest,
  verifyEnvelope,
  verifyRequestProof,
  VAULT_ADDRESS_ALPHABET,
  type Evidence,
} from '../src/index.js'
import { TimbreClient } from '../src/client/index.js'
import { createHash } from 'node:crypto'

const ROUTER = 'router.example'
const VAULT = 'vault-b.example'
const SENDER = '0009:12345678900011'

const codeOf = async (p: () => Promise<unknown>) => {
  try {
    await p()
    return 'no error'
  } catch (err) {
    return err instanceof TimbreError ? err.code : String(err)
  }
}

async function fakeRouter(t: Test) {
  const routerKey = await generateSigningKey()
  const forgeKey = await generateSigningKey()
  const senderKey = await generateSigningKey()
  const vaultKey = await generateSigningKey()
  const encKey = await generateEncryptionKey()
  const senderPub = toPublicJwk(senderKey)
  const address = generateVaultAddress()
  const state = {
    unavailableOnce: false,
    forge: false,
    submissions: 0,
    accepted: 0,
    jtis: new Set<string>(),
    idempotency: new Map<string, { hash: string; body: unknown }>(),
    deliveries: new Map<string, { status: string; evidence: string[]; envelope: string }>(),
    retryAfterAt: [] as number[],
  }
  const app = Fastify()
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body))
  const baseOf = (req: { headers: { host?: string } }) => `http://${req.headers.host}`
  const problem = (reply: any, code: Parameters<typeof problemFor>[0], requestId: string, headers: Record<string, string> = {}) => {
    const body = problemFor(code, { requestId })
    return reply.code(body.status).headers(headers).type('application/problem+json').send(body)
  }
  const authenticate = async (req: any, body: string) => {
    const claims = await verifyRequestProof(req.headers.authorization, {
      aud: ROUTER,
      method: req.method,
      path: req.url,
      body,
      resolveKey: (iss, kid) => (iss === SENDER && kid === senderPub.kid ? senderPub : undefined),
    })
    if (state.jtis.has(claims.jti)) throw new TimbreError('request-replayed')
    state.jtis.add(claims.jti)
    return claims
  }
  app.setErrorHandler((err, req, reply) => {
    const code = err instanceof TimbreError ? err.code : 'internal-error'
    return problem(reply, code, String(req.id))
  })

  app.get('/.well-known/timbre', async (req) => ({
    protocol: 'timbre',
    versions: ['1'],
    nodeId: ROUTER,
    roles: ['routing-node', 'directory'],
    endpoints: { submissions: `${baseOf(req)}/v1/submissions`, directory: `${baseOf(req)}/v1/directory`, jwks: `${baseOf(req)}/.well-known/jwks.json` },
    profiles: ['core'],
    limits: { maxContentBytes: 10485760, maxRequestBytes: 15000000 },
    algorithms: { signature: ['EdDSA'], keyAgreement: ['ECDH-ES+A256KW'], contentEncryption: ['A256GCM'] },
  }))
  app.get('/.well-known/jwks.json', async () => ({ keys: [toPublicJwk(routerKey)] }))
  app.get('/v1/directory/addresses/:address', async (req: any, reply) => {
    if (req.params.address !== address) return problem(reply, 'recipient-unknown', String(req.id))
    const now = new Date().toISOString()
    const line = await signDirectoryLine(
      {
        v: 1,
        address,
        operator: VAULT,
        relayEndpoint: 'http://127.0.0.1:1/v1/relay',
        encryptionKeys: [toPublicJwk(encKey)],
        version: 1,
        validFrom: now,
        validTo: null,
        issuedAt: now,
        issuer: ROUTER,
      },
      routerKey,
    )
    return { line }
  })
  app.get('/v1/directory/operators/:id', async (req: any, reply) => {
    if (req.params.id !== VAULT) return problem(reply, 'not-found', String(req.id))
    return { id: VAULT, roles: ['vault-operator'], baseUrl: 'http://127.0.0.1:1', jwks: { keys: [toPublicJwk(vaultKey), toPublicJwk(encKey)] } }
  })
  app.post('/v1/submissions', async (req: any, reply) => {
    state.submissions++
    const raw = req.body as string
    await authenticate(req, raw)
    if (state.unavailableOnce) {
      state.unavailableOnce = false
      state.retryAfterAt.push(Date.now())
      return problem(reply, 'unavailable', String(req.id), { 'retry-after': '1' })
    }
    state.retryAfterAt.push(Date.now())
    const key = req.headers['idempotency-key'] as string
    const hash = createHash('sha256').update(raw).digest('base64url')
    const seen = state.idempotency.get(key)
    if (seen && seen.hash !== hash) return problem(reply, 'idempotency-key-reused', 'req-' + String(req.id), { 'x-request-id': 'req-' + String(req.id) })
    if (seen) return reply.code(202).header('idempotency-replayed', 'true').send(seen.body)
    const { envelope, content } = JSON.parse(raw)
    const m = await verifyEnvelope(envelope, senderPub, content)
    const existing = state.deliveries.get(m.messageId)
    if (existing && existing.envelope !== envelope) return problem(reply, 'message-id-conflict', String(req.id))
    const { jws: stamp } = await signEvidence(
      {
        event: 'SubmissionAcceptance',
        issuer: ROUTER,
        messageId: m.messageId,
        sender: m.sender,
        recipient: m.recipient,
        contentDigest: m.content.digest,
        envelopeDigest: tokenDigest(envelope),
        senderKid: senderPub.kid,
        stampClass: 'standard',
      },
      state.forge ? forgeKey : routerKey,
    )
    const body = { messageId: m.messageId, status: 'accepted', stamp }
    state.idempotency.set(key, { hash, body })
    state.deliveries.set(m.messageId, { status: 'accepted', evidence: [stamp], envelope })
    state.accepted++
    return reply.code(202).send(body)
  })
  app.get('/v1/deliveries/:id', async (req: any, reply) => {
    await authenticate(req, '')
    const d = state.deliveries.get(req.params.id)
    if (!d) return reply.code(404).type('application/problem+json').send(problemFor('not-found', { requestId: 'body-only-id' }))
    return { messageId: req.params.id, status: d.status, final: ['delivered', 'rejected', 'failed'].includes(d.status), updatedAt: new Date().toISOString() }
  })
  app.get('/v1/deliveries/:id/evidence', async (req: any) => {
    await authenticate(req, '')
    return { evidence: state.deliveries.get(req.params.id)?.evidence ?? [] }
  })

  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())

  // Play the vault: sign its DepositAcceptance and mark the delivery delivered.
  const deliverToVault = async (messageId: string): Promise<string> => {
    const d = state.deliveries.get(messageId)!
    const stamp = JSON.parse(Buffer.from(d.evidence[0]!.split('.')[1]!, 'base64url').toString()) as Evidence
    const { jws } = await signEvidence(
      {
        event: 'DepositAcceptance',
        issuer: VAULT,
        messageId,
        sender: stamp.sender,
        recipient: stamp.recipient,
        contentDigest: stamp.contentDigest,
        envelopeDigest: stamp.envelopeDigest,
        senderKid: stamp.senderKid,
        recipientOperator: VAULT,
        previousEvidenceId: stamp.evidenceId,
      },
      vaultKey,
    )
    d.evidence.push(jws)
    d.status = 'delivered'
    return jws
  }

  const client = (extra: Partial<ConstructorParameters<typeof TimbreClient>[0]> = {}) =>
    new TimbreClient({ baseUrl: url, senderId: SENDER, key: senderKey, retry: { attempts: 3, baseMs: 5, capMs: 5_000 }, ...extra })
  return { url, state, address, routerKey, client, deliverToVault }
}

const doc = (to: string) => ({ to, document: '%PDF-1.7 payslip', mediaType: 'application/pdf', type: 'payslip' as const, title: 'Payslip' })

t.test('deliver() returns a verified stamp, and the chain verifies to the deposit', async (t) => {
  const net = await fakeRouter(t)
  const client = net.client()
  const receipt = await client.deliver({ ...doc(net.address), senderReference: 'PAY-1' })
  t.equal(receipt.status, 'accepted')
  t.equal(receipt.stamp.event, 'SubmissionAcceptance')
  t.equal(receipt.stamp.issuer, ROUTER)
  t.equal(receipt.stamp.messageId, receipt.messageId)
  t.equal(typeof receipt.stampJws, 'string')
  t.equal(net.state.accepted, 1)
  t.ok(net.state.idempotency.has(receipt.messageId), 'the message id is the default idempotency key')

  // The same delivery again, e.g. after a crash: re-sealing makes another envelope, so the node
  // answers idempotency-key-reused (same key) or message-id-conflict (new key); the client
  // recognises its own earlier delivery by the content digest and returns the original stamp.
  const again = await client.deliver({ ...doc(net.address), messageId: receipt.messageId })
  t.equal(again.stampJws, receipt.stampJws)
  const withKey = await client.deliver({ ...doc(net.address), messageId: receipt.messageId, idempotencyKey: 'k-1' })
  t.equal(withKey.stampJws, receipt.stampJws)
  t.equal(net.state.accepted, 1, 'still one delivery')
  t.equal(
    await codeOf(() => client.deliver({ ...doc(net.address), document: 'another document', messageId: receipt.messageId })),
    'idempotency-key-reused',
    'a different document under the same message id is not the same delivery',
  )

  const status = await client.status(receipt.messageId)
  t.equal(status.final, false)
  setTimeout(() => void net.deliverToVault(receipt.messageId), 150)
  const final = await client.waitForDelivery(receipt.messageId, { intervalMs: 50, timeoutMs: 5_000 })
  t.equal(final.status, 'delivered')
  const chain = await client.evidence(receipt.messageId)
  t.same(
    chain.map((e) => [e.evidence.event, e.evidence.issuer]),
    [
      ['SubmissionAcceptance', ROUTER],
      ['DepositAcceptance', VAULT],
    ],
  )
  const offline = await TimbreClient.verifyEvidence(chain[0]!.jws, { keys: [toPublicJwk(net.routerKey)] })
  t.equal(offline.evidenceId, receipt.stamp.evidenceId)
})

t.test('a mistyped address fails before any network call', async (t) => {
  let calls = 0
  class NoNetwork extends Dispatcher {
    override dispatch(): boolean {
      calls++
      t.fail('the dispatcher must not be called')
      throw new Error('no network in this test')
    }
  }
  const client = new TimbreClient({ baseUrl: 'http://127.0.0.1:9', senderId: SENDER, key: await generateSigningKey(), dispatcher: new NoNetwork() })
  const good = generateVaultAddress()
  const other = VAULT_ADDRESS_ALPHABET[(VAULT_ADDRESS_ALPHABET.indexOf(good[5]!) + 1) % 32]!
  const typo = good.slice(0, 5) + other + good.slice(6)
  const transposed = good.slice(0, 3) + good[4] + good[3] + good.slice(5)
  t.equal(await codeOf(() => client.deliver(doc(typo))), 'invalid-vault-address')
  if (good[3] !== good[4]) t.equal(await codeOf(() => client.deliver(doc(transposed))), 'invalid-vault-address')
  t.equal(await codeOf(() => client.deliver(doc('K7QM-3X9R-2VHD'))), 'invalid-vault-address')
  t.equal(calls, 0)
})

t.test('a 503 with Retry-After is retried after at least that long, with a fresh proof', async (t) => {
  const net = await fakeRouter(t)
  const client = net.client()
  await client.discovery()
  net.state.unavailableOnce = true
  const before = net.state.submissions
  const receipt = await client.deliver(doc(net.address))
  t.equal(net.state.submissions - before, 2, 'two attempts')
  const [first, second] = net.state.retryAfterAt.slice(-2)
  t.ok(second! - first! >= 950, `waited ${second! - first!} ms for Retry-After: 1`)
  t.equal(receipt.stamp.messageId, receipt.messageId)

  // Retry-After longer than the cap is not waited for: the error goes to the caller with it.
  const impatient = net.client({ retry: { attempts: 3, baseMs: 5, capMs: 500 } })
  net.state.unavailableOnce = true
  const err = await impatient.deliver(doc(net.address)).catch((e: unknown) => e)
  t.ok(err instanceof TimbreError)
  t.equal((err as TimbreError).code, 'unavailable')
  t.equal((err as TimbreError).status, 503)
  t.equal((err as TimbreError).retryable, true)
  t.equal((err as TimbreError).retryAfter, 1)
})

t.test('errors carry code, status and request id', async (t) => {
  const net = await fakeRouter(t)
  const client = net.client()
  await client.deliver({ ...doc(net.address), idempotencyKey: 'same-key' })
  const err = (await client.deliver({ ...doc(net.address), idempotencyKey: 'same-key' }).catch((e: unknown) => e)) as TimbreError
  t.ok(err instanceof TimbreError)
  t.equal(err.code, 'idempotency-key-reused')
  t.equal(err.status, 422)
  t.equal(err.retryable, false)
  t.match(err.requestId, /^req-/)

  const missing = (await client.status('0193a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b').catch((e: unknown) => e)) as TimbreError
  t.equal(missing.code, 'not-found')
  t.equal(missing.status, 404)
  t.equal(missing.requestId, 'body-only-id', 'request id from the problem body when there is no header')

  t.equal(await codeOf(() => client.deliver(doc(generateVaultAddress()))), 'recipient-unknown')

  const down = new TimbreClient({ baseUrl: 'http://127.0.0.1:9', senderId: SENDER, key: await generateSigningKey(), retry: { attempts: 1 } })
  t.equal(await codeOf(() => down.discovery()), 'network-error')

  const sockets: Socket[] = []
  const silent: Server = createServer((socket) => void sockets.push(socket))
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    for (const s of sockets) s.destroy()
    return new Promise<void>((resolve) => silent.close(() => resolve()))
  })
  const port = (silent.address() as { port: number }).port
  const slow = new TimbreClient({ baseUrl: `http://127.0.0.1:${port}`, senderId: SENDER, key: await generateSigningKey(), timeoutMs: 200, retry: { attempts: 1 } })
  t.equal(await codeOf(() => slow.discovery()), 'timeout')
})

t.test('a forged stamp is refused', async (t) => {
  const net = await fakeRouter(t)
  net.state.forge = true
  t.equal(await codeOf(() => net.client().deliver(doc(net.address))), 'evidence-invalid')
})

t.test('verifyWebhook accepts a signed webhook and refuses a tampered one', async (t) => {
  const net = await fakeRouter(t)
  const client = net.client()
  const { messageId } = await client.deliver(doc(net.address))
  const deposit = await net.deliverToVault(messageId)
  const body = JSON.stringify({ type: 'delivery.status', messageId, status: 'delivered', evidence: deposit })
  const id = JSON.parse(Buffer.from(deposit.split('.')[1]!, 'base64url').toString()).evidenceId as string
  const headers = signWebhook({ id, body, key: net.routerKey })
  const event = await client.verifyWebhook({ headers: { ...headers }, body: Buffer.from(body) })
  t.equal(event.id, id)
  t.equal(event.status, 'delivered')
  t.equal(event.evidence.event, 'DepositAcceptance')
  t.equal(event.evidence.issuer, VAULT)

  t.equal(await codeOf(() => client.verifyWebhook({ headers: { ...headers }, body: body.replace('delivered', 'rejected') })), 'auth-invalid')
  const lying = JSON.stringify({ type: 'delivery.status', messageId, status: 'failed', evidence: deposit })
  const lyingHeaders = signWebhook({ id, body: lying, key: net.routerKey })
  t.equal(await codeOf(() => client.verifyWebhook({ headers: { ...lyingHeaders }, body: lying })), 'evidence-invalid', 'status must match the evidence')
  const foreign = signWebhook({ id, body, key: await generateSigningKey() })
  t.equal(await codeOf(() => client.verifyWebhook({ headers: { ...foreign }, body })), 'auth-invalid')
})

t.test('request proofs the client signs verify at the node', async (t) => {
  // Sanity check of the fake node itself: a proof for another audience is refused.
  const net = await fakeRouter(t)
  const key = await generateSigningKey()
  const authorization = await createRequestProof({ key, iss: SENDER, aud: 'other.example', method: 'GET', path: '/v1/deliveries/x' })
  const res = await fetch(`${net.url}/v1/deliveries/x`, { headers: { authorization } })
  t.equal(res.status, 401)
})
