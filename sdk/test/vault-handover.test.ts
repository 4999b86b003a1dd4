// VaultKit Handover (spec 7.6, TMB-EVD-015/016): the first openDocument of a
// registered delivery signs a Handover that follows the DepositAcceptance,
// keeps it in the storage's chain once, and pushes it to the stamp's issuer
// with a request proof, retrying a 503 until 202. Standard deliveries get
// none unless `classes: 'all'`; `handover: false` issues nothing.
import t, { type Test } from 'tap'
import { createServer } from 'node:http'
import {
  createRequestProof,
  generateEncryptionKey,
  generateSigningKey,
  sealEnvelope,
  signDirectoryLine,
  signEvidence,
  toPublicJwk,
  tokenDigest,
  uuidv7,
  verifyEvidence,
  verifyRequestProof,
  type PrivateJwk,
} from '../src/index.js'
import { MemoryVaultStorage, VaultKit, type HandoverOptions, type IssuedHandover } from '../src/vault/index.js'

const ROUTER = 'router.example'
const OPERATOR = 'vault-b.example'
const SENDER = '0009:12345678900011'

interface Setup {
  kit: VaultKit
  storage: MemoryVaultStorage
  signingKey: PrivateJwk
  routerKey: PrivateJwk
  address: string
  deposit(stampClass: 'standard' | 'registered'): Promise<{ messageId: string; depositEvidence: string }>
}

async function setup(handover: HandoverOptions | false | undefined): Promise<Setup> {
  const routerKey = await generateSigningKey()
  const directoryKey = await generateSigningKey()
  const senderKey = await generateSigningKey()
  const signingKey = await generateSigningKey()
  const encKey = await generateEncryptionKey()
  const storage = new MemoryVaultStorage()
  const routerPub = toPublicJwk(routerKey)
  const kit = new VaultKit({
    operatorId: OPERATOR,
    signingKey,
    encryptionKeys: [encKey],
    storage,
    resolveNodeKey: (iss, kid) => (iss === ROUTER && kid === routerPub.kid ? routerPub : undefined),
    resolveDirectoryKey: (kid) => (kid === directoryKey.kid ? toPublicJwk(directoryKey) : undefined),
    ...(handover !== undefined ? { handover } : {}),
  })
  const address = await kit.openAccount()
  const relay = kit.relayHandler()
  async function deposit(stampClass: 'standard' | 'registered') {
    const sealed = await sealEnvelope({
      messageId: uuidv7(), sender: SENDER, recipient: address, documentType: 'payslip', title: 'Payslip',
      mediaType: 'text/plain', document: `a ${stampClass} letter`, senderKey, recipientKey: toPublicJwk(encKey),
    })
    const m = sealed.metadata
    const { jws: stamp } = await signEvidence({
      event: 'SubmissionAcceptance', issuer: ROUTER, messageId: m.messageId, sender: m.sender, recipient: m.recipient,
      contentDigest: m.content.digest, envelopeDigest: tokenDigest(sealed.envelope), senderKid: senderKey.kid, stampClass,
    }, routerKey)
    const now = new Date().toISOString()
    const route = await signDirectoryLine({ v: 1, address, operator: OPERATOR, relayEndpoint: 'http://127.0.0.1/v1/relay', encryptionKeys: [toPublicJwk(encKey)], version: 1, validFrom: now, validTo: null, issuedAt: now, issuer: 'directory.example' }, directoryKey)
    const body = JSON.stringify({ envelope: sealed.envelope, content: sealed.content, stamp, senderKey: toPublicJwk(senderKey), route })
    const authorization = await createRequestProof({ key: routerKey, iss: ROUTER, aud: OPERATOR, method: 'POST', path: '/v1/relay', body })
    const res = await relay({ method: 'POST', path: '/v1/relay', headers: { 'content-type': 'application/json', authorization }, rawBody: Buffer.from(body) })
    if (res.status !== 201) throw new Error(`relay answered ${res.status} ${JSON.stringify(res.body)}`)
    return { messageId: m.messageId, depositEvidence: (res.body as { evidence: string }).evidence }
  }
  return { kit, storage, signingKey, routerKey, address, deposit }
}

t.test('registered: the first open issues one Handover, kept in the chain and delivered once', async (t) => {
  const delivered: IssuedHandover[] = []
  const s = await setup({ deliver: (h) => void delivered.push(h) })
  t.ok(s.kit.supportsHandover, 'a memory storage supports handover')
  const { messageId, depositEvidence } = await s.deposit('registered')
  const first = await s.kit.openDocument(s.address, messageId)
  t.ok(first, 'the document opens')
  t.equal(Buffer.from(first!.bytes).toString(), 'a registered letter')
  t.equal(first!.firstOpen, true)
  const jwks = s.kit.jwks()
  const h = await verifyEvidence(first!.handover!, jwks, { issuer: OPERATOR, messageId, event: 'Handover' })
  const dep = await verifyEvidence(depositEvidence, jwks, { event: 'DepositAcceptance' })
  t.equal(h.previousEvidenceId, dep.evidenceId, 'follows the DepositAcceptance')
  t.equal(h.stampClass, 'registered')
  t.equal(h.envelopeDigest, dep.envelopeDigest)
  t.equal(h.recipientOperator, OPERATOR)
  t.equal(delivered.length, 1)
  t.equal(delivered[0]!.routingNode, ROUTER, 'pushed to the stamp issuer')
  t.equal(delivered[0]!.jws, first!.handover)
  const stored = (await s.storage.list(s.address))[0]!
  t.same(stored.chain, [stored.stamp, stored.evidence, first!.handover], 'stamp, deposit, Handover in the stored chain')
  const verified = await s.kit.verifyDeposit(stored)
  t.equal(verified.evidence.evidenceId, dep.evidenceId, 'the deposit still verifies')

  const second = await s.kit.openDocument(s.address, messageId)
  t.equal(second!.firstOpen, false)
  t.equal(second!.handover, first!.handover, 'the same Handover at a later open')
  t.equal(delivered.length, 1, 'delivered only once')
  t.same((await s.storage.list(s.address))[0]!.chain!.length, 3, 'the chain did not grow')
})

t.test('standard: no Handover by default; with classes all, one (TMB-EVD-016); handover false: none', async (t) => {
  const delivered: IssuedHandover[] = []
  const s = await setup({ deliver: (h) => void delivered.push(h) })
  const std = await s.deposit('standard')
  const opened = await s.kit.openDocument(s.address, std.messageId)
  t.equal(opened!.handover, undefined)
  t.equal(delivered.length, 0)

  const all = await setup({ classes: 'all', deliver: (h) => void delivered.push(h) })
  const d = await all.deposit('standard')
  t.ok((await all.kit.openDocument(all.address, d.messageId))!.handover, 'classes all: a standard delivery gets a Handover')
  t.equal(delivered.length, 1)

  const off = await setup(false)
  t.equal(off.kit.supportsHandover, false)
  const r = await off.deposit('registered')
  t.equal((await off.kit.openDocument(off.address, r.messageId))!.handover, undefined, 'handover false: nothing issued')
  t.equal(await s.kit.openDocument(s.address, uuidv7()), undefined, 'an unknown document is undefined')
})

async function stubRouter(t: Test, answers: number[], vaultKey: PrivateJwk) {
  const received: { status: number; evidence: string }[] = []
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const body = Buffer.concat(chunks)
    const status = answers[Math.min(received.length, answers.length - 1)]!
    // The proof is the vault's, for this router and these bytes.
    await verifyRequestProof(String(req.headers.authorization), { aud: ROUTER, method: 'POST', path: req.url!, body, resolveKey: (iss, kid) => (iss === OPERATOR && kid === vaultKey.kid ? toPublicJwk(vaultKey) : undefined) })
    received.push({ status, evidence: JSON.parse(body.toString()).evidence })
    res.writeHead(status, status === 503 ? { 'retry-after': '0', 'content-type': 'application/problem+json' } : {})
    res.end(status === 503 ? JSON.stringify({ code: 'unavailable', status: 503, retryable: true, retryAfter: 0 }) : '')
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/evidence`, received }
}

t.test('pushHandover retries a 503 and stops at 202; 404 ends it too; a 400 is final', async (t) => {
  const s = await setup({ deliver: () => {} })
  const { messageId } = await s.deposit('registered')
  const opened = await s.kit.openDocument(s.address, messageId)
  const issued: IssuedHandover = { jws: opened!.handover!, evidence: (await verifyEvidence(opened!.handover!, s.kit.jwks())), routingNode: ROUTER, record: opened!.record }

  const router = await stubRouter(t, [503, 503, 202], s.signingKey)
  const r = await s.kit.pushHandover(issued, { url: router.url, baseMs: 1, capMs: 5 })
  t.equal(r.outcome, 'done')
  t.equal(r.status, 202)
  t.same(router.received.map((x) => x.status), [503, 503, 202], 'two retries, then attached')
  t.ok(router.received.every((x) => x.evidence === issued.jws), 'the same evidence each time')

  const gone = await stubRouter(t, [404], s.signingKey)
  t.equal((await s.kit.pushHandover(issued, { url: gone.url, baseMs: 1, capMs: 5 })).outcome, 'done', '404: the router does not know the delivery; stop')
  t.equal(gone.received.length, 1)

  const refusing = await stubRouter(t, [400], s.signingKey)
  const refused = await s.kit.pushHandover(issued, { url: refusing.url, baseMs: 1, capMs: 5 })
  t.equal(refused.outcome, 'refused', 'a final 4xx is not retried (chapter 10)')
  t.equal(refusing.received.length, 1)
})
