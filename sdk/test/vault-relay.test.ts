import t, { type Test } from 'tap'
import Fastify from 'fastify'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import {
  createRequestProof,
  generateEncryptionKey,
  generateSigningKey,
  generateVaultAddress,
  sealEnvelope,
  signDirectoryLine,
  signEvidence,
  toPublicJwk,
  tokenDigest,
  uuidv7,
  verifyEvidence,
  type PrivateJwk,
  type SealedEnvelope,
} from '../src/index.js'
import { FsVaultStorage, MemoryVaultStorage, VaultKit, type VaultStorage } from '../src/vault/index.js'

const ROUTER = 'router.example'
const OPERATOR = 'vault-b.example'
const SENDER = '0009:12345678900011'

interface Net {
  url: string
  kit: VaultKit
  storage: VaultStorage & { markMoved(address: string, operator: string): Promise<void> }
  routerKey: PrivateJwk
  senderKey: PrivateJwk
  encKey: PrivateJwk
  directoryKey: PrivateJwk
  address: string
}

async function network(t: Test, kind: 'memory' | 'fs'): Promise<Net> {
  const routerKey = await generateSigningKey()
  const directoryKey = await generateSigningKey()
  const senderKey = await generateSigningKey()
  const signingKey = await generateSigningKey()
  const encKey = await generateEncryptionKey()
  let storage: Net['storage']
  if (kind === 'fs') {
    const dir = await mkdtemp(join(tmpdir(), 'timbre-vault-'))
    t.teardown(() => rm(dir, { recursive: true, force: true }))
    storage = new FsVaultStorage(dir)
  } else {
    storage = new MemoryVaultStorage()
  }
  const routerPub = toPublicJwk(routerKey)
  const kit = new VaultKit({
    operatorId: OPERATOR,
    signingKey,
    encryptionKeys: [encKey],
    storage,
    maxContentBytes: 1024,
    resolveNodeKey: (iss, kid) => (iss === ROUTER && kid === routerPub.kid ? routerPub : undefined),
    resolveDirectoryKey: (kid) => (kid === directoryKey.kid ? toPublicJwk(directoryKey) : undefined),
  })
  const app = Fastify()
  await app.register(kit.fastifyPlugin())
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  const address = await kit.openAccount()
  return { url, kit, storage, routerKey, senderKey, encKey, directoryKey, address }
}

async function routeFor(net: Net, address: string, key = net.directoryKey): Promise<string> {
  const now = new Date().toISOString()
  return signDirectoryLine(
    {
      v: 1,
      address,
      operator: OPERATOR,
      relayEndpoint: `${net.url}/v1/relay`,
      encryptionKeys: [toPublicJwk(net.encKey)],
      version: 1,
      validFrom: now,
      validTo: null,
      issuedAt: now,
      issuer: 'directory.example',
    },
    key,
  )
}

async function seal(net: Net, overrides: { recipient?: string; document?: string; messageId?: string } = {}): Promise<SealedEnvelope> {
  return sealEnvelope({
    messageId: overrides.messageId ?? uuidv7(),
    sender: SENDER,
    recipient: overrides.recipient ?? net.address,
    documentType: 'payslip',
    title: 'Payslip November 2026',
    mediaType: 'application/pdf',
    document: overrides.document ?? '%PDF-1.7 payslip',
    senderKey: net.senderKey,
    recipientKey: toPublicJwk(net.encKey),
  })
}

async function stampFor(net: Net, sealed: SealedEnvelope, envelope = sealed.envelope, key = net.routerKey): Promise<string> {
  const m = sealed.metadata
  const { jws } = await signEvidence(
    {
      event: 'SubmissionAcceptance',
      issuer: ROUTER,
      messageId: m.messageId,
      sender: m.sender,
      recipient: m.recipient,
      contentDigest: m.content.digest,
      envelopeDigest: tokenDigest(envelope),
      senderKid: net.senderKey.kid,
      stampClass: 'standard',
    },
    key,
  )
  return jws
}

async function relayBody(net: Net, sealed: SealedEnvelope, parts: Partial<Record<'envelope' | 'content' | 'stamp' | 'route', string>> = {}): Promise<string> {
  const envelope = parts.envelope ?? sealed.envelope
  return JSON.stringify({
    envelope,
    content: parts.content ?? sealed.content,
    stamp: parts.stamp ?? (await stampFor(net, sealed, envelope)),
    senderKey: toPublicJwk(net.senderKey),
    route: parts.route ?? (await routeFor(net, sealed.metadata.recipient)),
  })
}

interface ProofOptions {
  key?: PrivateJwk
  iss?: string
  aud?: string
  authorization?: string
  contentType?: string
}

async function post(net: Net, body: string, o: ProofOptions = {}) {
  const authorization =
    o.authorization ??
    (await createRequestProof({ key: o.key ?? net.routerKey, iss: o.iss ?? ROUTER, aud: o.aud ?? OPERATOR, method: 'POST', path: '/v1/relay', body }))
  const res = await request(`${net.url}/v1/relay`, {
    method: 'POST',
    headers: { 'content-type': o.contentType ?? 'application/json', authorization },
    body,
  })
  const json = (await res.body.json()) as Record<string, any>
  return { status: res.statusCode, body: json, authorization, headers: res.headers }
}

const stored = async (net: Net) => (await net.kit.documents(net.address)).length

for (const kind of ['memory', 'fs'] as const) {
  t.test(`relay into a vault (${kind} storage)`, async (t) => {
    const net = await network(t, kind)

    t.test('a valid relay is deposited once, with verifiable evidence', async (t) => {
      const sealed = await seal(net)
      const body = await relayBody(net, sealed)
      const first = await post(net, body)
      t.equal(first.status, 201)
      t.ok(first.headers['x-request-id'])
      const evidence = await verifyEvidence(first.body.evidence, net.kit.jwks(), {
        issuer: OPERATOR,
        event: 'DepositAcceptance',
        messageId: sealed.metadata.messageId,
        envelopeDigest: tokenDigest(sealed.envelope),
      })
      t.equal(evidence.recipientOperator, OPERATOR)
      t.equal(evidence.senderKid, net.senderKey.kid)
      t.same(evidence.contentDigest, sealed.metadata.content.digest)
      const bytes = await net.kit.document(net.address, sealed.metadata.messageId)
      t.equal(Buffer.from(bytes!).toString(), '%PDF-1.7 payslip')
      const [record] = await net.kit.documents(net.address)
      const chain = await net.kit.verifyDeposit(record!)
      t.equal(chain.evidence.previousEvidenceId, chain.stamp.evidenceId)
      t.equal(evidence.stampClass, 'standard', 'stampClass is copied from the stamp')

      // The same relay with a new proof: the original evidence, no second deposit.
      const again = await post(net, body)
      t.equal(again.status, 200)
      t.equal(again.body.evidence, first.body.evidence)
      t.equal(await stored(net), 1)

      // The same message id with another document is a conflict, and the deposit stays as it was.
      const otherDoc = await seal(net, { messageId: sealed.metadata.messageId, document: 'changed' })
      const conflict = await post(net, await relayBody(net, otherDoc))
      t.equal(conflict.status, 409)
      t.equal(conflict.body.code, 'message-id-conflict')
      t.equal(Buffer.from((await net.kit.document(net.address, sealed.metadata.messageId))!).toString(), '%PDF-1.7 payslip')

      // The same proof again is a replay.
      const replayed = await post(net, body, { authorization: again.authorization })
      t.equal(replayed.status, 401)
      t.equal(replayed.body.code, 'request-replayed')
      t.equal(replayed.body.evidence, undefined, 'no evidence for an unauthenticated repeat')
    })

    t.test('bad input is refused with its code and nothing is stored', async (t) => {
      const before = await stored(net)
      const sealed = await seal(net)

      const tampered = sealed.envelope.slice(0, -4) + (sealed.envelope.endsWith('AAAA') ? 'BBBB' : 'AAAA')
      const envInvalid = await post(net, await relayBody(net, sealed, { envelope: tampered }))
      t.equal(envInvalid.status, 400)
      t.equal(envInvalid.body.code, 'envelope-invalid')

      const other = await seal(net, { document: 'another document' })
      const swapped = await post(net, await relayBody(net, sealed, { content: other.content }))
      t.equal(swapped.status, 422)
      t.equal(swapped.body.code, 'content-digest-mismatch')
      t.equal(swapped.body.evidence, undefined, 'no rejection evidence before the message is verified')
      t.match(swapped.headers['content-type'], /^application\/problem\+json/)

      const foreignKey = await generateSigningKey()
      const badStamp = await post(net, await relayBody(net, sealed, { stamp: await stampFor(net, sealed, sealed.envelope, foreignKey) }))
      t.equal(badStamp.status, 400)
      t.equal(badStamp.body.code, 'stamp-invalid')

      const otherStamp = await post(net, await relayBody(net, sealed, { stamp: await stampFor(net, other) }))
      t.equal(otherStamp.body.code, 'stamp-invalid', 'a stamp for another envelope')

      const stranger = await seal(net, { recipient: generateVaultAddress() })
      const unknown = await post(net, await relayBody(net, stranger))
      t.equal(unknown.status, 404)
      t.equal(unknown.body.code, 'recipient-unknown')
      const rejection = await verifyEvidence(unknown.body.evidence, net.kit.jwks(), { event: 'DepositRejection', messageId: stranger.metadata.messageId })
      t.equal(rejection.reason?.code, 'recipient-unknown', 'a signed DepositRejection comes with the problem')

      const otherRoute = await post(net, await relayBody(net, sealed, { route: await routeFor(net, generateVaultAddress()) }))
      t.equal(otherRoute.status, 400)
      t.equal(otherRoute.body.code, 'stamp-invalid', 'a route for another address')
      const foreignRoute = await post(net, await relayBody(net, sealed, { route: await routeFor(net, net.address, foreignKey) }))
      t.equal(foreignRoute.body.code, 'stamp-invalid', 'a route signed by someone else')

      const movedAddress = await net.kit.openAccount()
      await net.storage.markMoved(movedAddress, 'vault-c.example')
      const movedDoc = await seal(net, { recipient: movedAddress })
      const moved = await post(net, await relayBody(net, movedDoc))
      t.equal(moved.status, 409)
      t.equal(moved.body.code, 'recipient-moved')
      t.equal(moved.body.operator, 'vault-c.example')

      const intruderKey = await generateSigningKey()
      const untrusted = await post(net, await relayBody(net, sealed), { key: intruderKey, iss: 'intruder.example' })
      t.equal(untrusted.status, 403)
      t.equal(untrusted.body.code, 'node-untrusted')
      t.equal(untrusted.body.evidence, undefined)

      const wrongAud = await post(net, await relayBody(net, sealed), { aud: 'vault-c.example' })
      t.equal(wrongAud.status, 401)
      t.equal(wrongAud.body.code, 'auth-invalid')

      const noAuth = await post(net, await relayBody(net, sealed), { authorization: '' })
      t.equal(noAuth.body.code, 'auth-required')
      t.equal(noAuth.headers['www-authenticate'], 'Timbre')

      const big = await seal(net, { document: 'x'.repeat(2048) })
      const tooLarge = await post(net, await relayBody(net, big))
      t.equal(tooLarge.status, 413)
      t.equal(tooLarge.body.code, 'content-too-large')

      const malformed = await post(net, '{"envelope":')
      t.equal(malformed.status, 400)
      t.equal(malformed.body.code, 'malformed-json')

      const shape = await post(net, JSON.stringify({ envelope: sealed.envelope }))
      t.equal(shape.status, 400)
      t.equal(shape.body.code, 'schema-violation')

      const mediaType = await post(net, await relayBody(net, sealed), { contentType: 'text/plain' })
      t.equal(mediaType.status, 415)
      t.equal(mediaType.body.code, 'unsupported-media-type')

      t.equal(await stored(net), before, 'nothing was stored')
    })

    t.test('twenty identical relays at once store exactly one deposit', async (t) => {
      const before = await stored(net)
      const sealed = await seal(net)
      const body = await relayBody(net, sealed)
      const results = await Promise.all(Array.from({ length: 20 }, () => post(net, body)))
      const statuses = results.map((r) => r.status).sort()
      t.equal(statuses.filter((s) => s === 201).length, 1, 'one 201')
      t.equal(statuses.filter((s) => s === 200).length, 19, 'nineteen 200')
      t.equal(new Set(results.map((r) => r.body.evidence)).size, 1, 'all carry the same evidence')
      t.equal(await stored(net), before + 1)
      t.ok(await net.storage.findDeposit(SENDER, sealed.metadata.messageId))
    })
  })
}

t.test('FsVaultStorage: concurrent deposits of one message, from separate instances', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'timbre-fs-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const address = generateVaultAddress()
  await new FsVaultStorage(dir).openAccount(address)
  const messageId = uuidv7()
  const base = {
    address,
    sender: SENDER,
    messageId,
    metadata: {} as never,
    envelope: 'e',
    senderKey: {} as never,
    stamp: 's',
    depositedAt: new Date().toISOString(),
    size: 1,
    digest: { alg: 'sha-256' as const, value: 'v' },
  }
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) => new FsVaultStorage(dir).deposit({ ...base, evidence: `evidence-${i}` }, new Uint8Array([i]))),
  )
  const winners = results.filter((r) => r.inserted)
  t.equal(winners.length, 1)
  t.ok(results.every((r) => r.record.evidence === winners[0]!.record.evidence), 'losers see the winner')
  const list = await new FsVaultStorage(dir).list(address)
  t.equal(list.length, 1)
  const bytes = await new FsVaultStorage(dir).read(address, messageId)
  t.same([...bytes!], [Number(winners[0]!.record.evidence.split('-')[1])], 'the winner\'s bytes are stored')
  t.equal(await new FsVaultStorage(dir).account(generateVaultAddress()), undefined)
  t.equal(await new FsVaultStorage(dir).account('../../etc/passwd'), undefined)
})
