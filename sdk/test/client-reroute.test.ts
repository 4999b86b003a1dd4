import t from 'tap'
import Fastify from 'fastify'
import {
  TimbreError,
  decodeEvidence,
  generateEncryptionKey,
  generateSigningKey,
  generateVaultAddress,
  openContent,
  peekEnvelope,
  problemFor,
  signDirectoryLine,
  signEvidence,
  toPublicJwk,
  tokenDigest,
  verifyEnvelope,
  verifyRequestProof,
  type Evidence,
} from '../src/index.js'
import { TimbreClient } from '../src/client/index.js'

const ROUTER = 'router.example'
const SENDER = '0009:12345678900011'

t.test('a delivery whose recipient moved is re-sealed for the new operator under the same messageId', async (t) => {
  const routerKey = await generateSigningKey()
  const senderKey = await generateSigningKey()
  const encA = await generateEncryptionKey()
  const encB = await generateEncryptionKey()
  const address = generateVaultAddress()
  const state = {
    operator: 'vault-a.example',
    reroutes: [] as Array<{ envelope: string; idempotencyKey: string }>,
    deliveries: new Map<string, { envelope: string; status: string; evidence: string[]; polls: number }>(),
  }
  const app = Fastify()
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body))
  app.setErrorHandler((err, _req, reply) => {
    const p = problemFor(err instanceof TimbreError ? err.code : 'internal-error', { detail: String((err as Error).message) })
    return reply.code(p.status).type('application/problem+json').send(p)
  })
  const auth = (req: any) =>
    verifyRequestProof(req.headers.authorization, {
      aud: ROUTER,
      method: req.method,
      path: req.url,
      body: typeof req.body === 'string' ? req.body : '',
      resolveKey: (iss, kid) => (iss === SENDER && kid === senderKey.kid ? toPublicJwk(senderKey) : undefined),
    })
  const evidence = async (base: Partial<Evidence> & Pick<Evidence, 'event'>, envelope: string) => {
    const m = peekEnvelope(envelope)!
    const { jws } = await signEvidence(
      { issuer: ROUTER, messageId: m.messageId, sender: m.sender, recipient: m.recipient, contentDigest: m.content.digest, envelopeDigest: tokenDigest(envelope), senderKid: senderKey.kid, stampClass: 'standard', ...base },
      routerKey,
    )
    return jws
  }
  app.get('/.well-known/timbre', async (req) => ({
    protocol: 'timbre', versions: ['1'], nodeId: ROUTER, roles: ['routing-node', 'directory'],
    endpoints: { jwks: `http://${req.headers.host}/.well-known/jwks.json`, directory: `http://${req.headers.host}/v1/directory` },
  }))
  app.get('/.well-known/jwks.json', async () => ({ keys: [toPublicJwk(routerKey)] }))
  app.get('/v1/directory/addresses/:address', async () => {
    const now = new Date().toISOString()
    const enc = state.operator === 'vault-a.example' ? encA : encB
    const line = await signDirectoryLine(
      { v: 1, address, operator: state.operator, relayEndpoint: 'http://127.0.0.1:1/v1/relay', encryptionKeys: [toPublicJwk(enc)], version: state.operator === 'vault-a.example' ? 1 : 2, validFrom: now, validTo: null, issuedAt: now, issuer: ROUTER },
      routerKey,
    )
    return { line }
  })
  app.post('/v1/submissions', async (req: any, reply) => {
    await auth(req)
    const { envelope } = JSON.parse(req.body)
    const m = peekEnvelope(envelope)!
    const stamp = await evidence({ event: 'SubmissionAcceptance', recipientOperator: 'vault-a.example' }, envelope)
    state.deliveries.set(m.messageId, { envelope, status: 'accepted', evidence: [stamp], polls: 0 })
    return reply.code(202).send({ messageId: m.messageId, status: 'accepted', stamp })
  })
  app.get('/v1/deliveries/:id', async (req: any) => {
    await auth(req)
    const d = state.deliveries.get(req.params.id)!
    d.polls++
    if (d.status === 'accepted' && d.polls === 1) {
      // The donor answered recipient-moved: the person moved to vault-b.
      state.operator = 'vault-b.example'
      d.status = 'rerouting'
      d.evidence.push(
        await evidence({ event: 'RelayRejection', recipientOperator: 'vault-a.example', reason: { code: 'recipient-moved' }, previousEvidenceId: decodeEvidence(d.evidence[0]!).evidenceId }, d.envelope),
      )
    } else if (d.status === 'accepted' && state.reroutes.length) {
      d.status = 'delivered'
      d.evidence.push(await evidence({ event: 'RelayAcceptance', recipientOperator: 'vault-b.example', previousEvidenceId: decodeEvidence(d.evidence.at(-1)!).evidenceId }, d.envelope))
    }
    return { messageId: req.params.id, status: d.status, final: d.status === 'delivered', updatedAt: new Date().toISOString() }
  })
  app.get('/v1/deliveries/:id/evidence', async (req: any) => {
    await auth(req)
    return { evidence: state.deliveries.get(req.params.id)!.evidence }
  })
  app.post('/v1/deliveries/:id/reroute', async (req: any, reply) => {
    await auth(req)
    const d = state.deliveries.get(req.params.id)
    if (!d) throw new TimbreError('not-found')
    if (d.status !== 'rerouting') throw new TimbreError('message-id-conflict')
    const { envelope, content } = JSON.parse(req.body)
    const m = await verifyEnvelope(envelope, toPublicJwk(senderKey), content)
    const old = peekEnvelope(d.envelope)!
    const { contentJweDigest: _a, recipientKid: _b, ...same } = m
    const { contentJweDigest: _c, recipientKid: _d, ...before } = old
    t.same(same, before, 'identical metadata, createdAt included')
    t.equal(m.recipientKid, encB.kid, 'sealed for the new operator')
    const plain = await openContent(content, m, encB)
    t.equal(Buffer.from(plain).toString(), '%PDF payslip for a moved person')
    state.reroutes.push({ envelope, idempotencyKey: String(req.headers['idempotency-key']) })
    const rejection = decodeEvidence(d.evidence.at(-1)!)
    const stamp = await evidence({ event: 'SubmissionAcceptance', recipientOperator: 'vault-b.example', previousEvidenceId: rejection.evidenceId }, envelope)
    d.envelope = envelope
    d.status = 'accepted'
    d.evidence.push(stamp)
    return reply.code(202).send({ messageId: m.messageId, stamp, status: 'accepted' })
  })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())

  const client = new TimbreClient({ baseUrl: url, senderId: SENDER, key: senderKey })
  const receipt = await client.deliver({ to: address, document: '%PDF payslip for a moved person', type: 'payslip', title: 'Payslip', mediaType: 'application/pdf' })
  const final = await client.waitForDelivery(receipt.messageId, { intervalMs: 20, timeoutMs: 10_000 })
  t.equal(final.status, 'delivered')
  t.equal(state.reroutes.length, 1, 're-routed exactly once')
  t.not(state.reroutes[0]!.idempotencyKey, receipt.messageId, 'under a new idempotency key')
  t.equal(peekEnvelope(state.reroutes[0]!.envelope)!.messageId, receipt.messageId, 'same messageId (TMB-PORT-030)')
  const chain = await client.evidence(receipt.messageId)
  const stamps = chain.filter((e) => e.evidence.event === 'SubmissionAcceptance')
  t.equal(stamps.length, 2)
  t.equal(stamps[1]!.evidence.recipientOperator, 'vault-b.example')

  t.test('explicit reroute with a documentSource when nothing is cached', async (t) => {
    const bare: TimbreClient = new TimbreClient({
      baseUrl: url,
      senderId: SENDER,
      key: senderKey,
      plaintextCache: { maxEntries: 0 },
      autoReroute: false,
      documentSource: async (id: string) => (id === second.messageId ? { document: '%PDF payslip for a moved person', envelope: originalEnvelope } : undefined),
    })
    state.operator = 'vault-a.example'
    const second: { messageId: string } = await bare.deliver({ to: address, document: '%PDF payslip for a moved person', type: 'payslip', title: 'Payslip', mediaType: 'application/pdf' })
    const originalEnvelope = state.deliveries.get(second.messageId)!.envelope
    t.equal((await bare.status(second.messageId)).status, 'rerouting')
    const rerouted = await bare.reroute(second.messageId)
    t.equal(rerouted.messageId, second.messageId)
    t.equal(rerouted.stamp.recipientOperator, 'vault-b.example')
    const noSource = new TimbreClient({ baseUrl: url, senderId: SENDER, key: senderKey, plaintextCache: { maxEntries: 0 } })
    await t.rejects(noSource.reroute(second.messageId), { code: 'recipient-moved' }, 'without the plaintext, the caller is told to supply it')
  })
})
