// Shared by the porting and archive tests: a small directory that follows spec 9.3/9.4, and vault kits around it.
import type { Test } from 'tap'
import Fastify from 'fastify'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import {
  TimbreError,
  checkPortingCode,
  createRequestProof,
  generateEncryptionKey,
  generateSigningKey,
  isValidVaultAddress,
  portingCodeDigest,
  problemFor,
  sealEnvelope,
  signDirectoryLine,
  signEvidence,
  toPublicJwk,
  tokenDigest,
  uuidv7,
  verifyRequestProof,
  type PrivateJwk,
  type PublicJwk,
} from '../src/index.js'
import { FsVaultStorage, MemoryVaultStorage, VaultKit, type Port } from '../src/vault/index.js'
import { schemaValidator } from '../src/protocol/schemas.js'

export const DIRECTORY = 'directory.example'
export const ROUTER = 'router.example'
export const SENDER = '0009:12345678900011'

interface Operator {
  key: PublicJwk
  baseUrl: string
}

export interface FakeDirectory {
  url: string
  key: PrivateJwk
  operators: Map<string, Operator>
  lines: Map<string, string>
  ports: Map<string, Port>
  objectionWindowMs: number
  notifications: Promise<unknown>[]
  settled(): Promise<void>
}

export async function fakeDirectory(t: Test): Promise<FakeDirectory> {
  const key = await generateSigningKey()
  const codes: Array<{ address: string; digest: string; expiresAt: string; used: boolean; invalid: boolean }> = []
  const jtis = new Set<string>()
  const dir: FakeDirectory = {
    url: '',
    key,
    operators: new Map(),
    lines: new Map(),
    ports: new Map(),
    objectionWindowMs: 0,
    notifications: [],
    async settled() {
      await Promise.allSettled(this.notifications)
    },
  }
  const fail = (code: Parameters<typeof problemFor>[0], detail?: string): never => {
    throw new TimbreError(code, detail ? { detail } : {})
  }
  // The port's status moves to completed at cutoverAt without anyone acting (TMB-PORT-018).
  const current = (p: Port): Port => {
    if (p.status === 'pending' && Date.now() >= Date.parse(p.cutoverAt)) {
      p.status = 'completed'
      p.updatedAt = p.cutoverAt
      dir.lines.set(p.address, p.recipientOperator)
    }
    return p
  }
  const notify = (operator: string, port: Port) => {
    const op = dir.operators.get(operator)
    if (!op) return
    const body = JSON.stringify(port)
    const sending = (async () => {
      const authorization = await createRequestProof({ key, iss: DIRECTORY, aud: operator, method: 'POST', path: '/v1/notifications/ports', body })
      const res = await request(`${op.baseUrl}/v1/notifications/ports`, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body })
      await res.body.text()
      if (res.statusCode >= 300) throw new Error(`notification answered ${res.statusCode}`)
    })()
    dir.notifications.push(sending)
  }
  const app = Fastify()
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body))
  app.setErrorHandler((err, req, reply) => {
    const problem = err instanceof TimbreError ? problemFor(err.code, { detail: err.detail }) : problemFor('internal-error', { detail: String(err) })
    return reply.code(problem.status).type('application/problem+json').send(problem)
  })
  const auth = async (req: any) => {
    const body = typeof req.body === 'string' ? req.body : ''
    const claims = await verifyRequestProof(req.headers.authorization, {
      aud: DIRECTORY,
      method: req.method,
      path: req.url,
      body,
      resolveKey: (iss, kid) => {
        const op = dir.operators.get(iss)
        if (!op) fail('node-untrusted')
        return op!.key.kid === kid ? op!.key : undefined
      },
    })
    if (jtis.has(claims.jti)) fail('request-replayed')
    jtis.add(claims.jti)
    return { iss: claims.iss, body: body ? JSON.parse(body) : undefined }
  }
  const schema = (file: string, value: unknown) => {
    if (!schemaValidator(file)(value)) fail('schema-violation')
  }
  app.get('/.well-known/timbre', async () => ({ protocol: 'timbre', versions: ['1'], nodeId: DIRECTORY, roles: ['directory'], endpoints: { jwks: `${dir.url}/.well-known/jwks.json` } }))
  app.get('/.well-known/jwks.json', async () => ({ keys: [toPublicJwk(key)] }))

  app.post('/v1/directory/porting-codes', async (req, reply) => {
    const { iss, body } = await auth(req)
    schema('porting-code.json', body)
    if (dir.lines.get(body.address) !== iss) fail('directory-conflict')
    for (const c of codes) if (c.address === body.address && !c.used) c.invalid = true
    codes.push({ address: body.address, digest: body.codeDigest, expiresAt: body.expiresAt, used: false, invalid: false })
    return reply.code(201).send({ address: body.address, donor: iss, registeredAt: new Date().toISOString(), expiresAt: body.expiresAt })
  })

  app.post('/v1/directory/ports', async (req, reply) => {
    const { iss, body } = await auth(req)
    schema('port-request.json', body)
    // The checks of 9.3, in order.
    if (body.recipientOperator !== iss) fail('sender-mismatch')
    if (!isValidVaultAddress(body.address)) fail('invalid-vault-address')
    const operator = dir.lines.get(body.address)
    if (!operator) fail('recipient-unknown')
    if (operator === iss) fail('directory-conflict')
    const check = checkPortingCode(body.address, body.portingCode)
    const digest = check.valid ? portingCodeDigest(body.address, check.code) : ''
    const code = codes.find((c) => c.address === body.address && c.digest === digest && !c.invalid)
    if (!code) fail('porting-code-invalid')
    if (Date.parse(code!.expiresAt) <= Date.now()) fail('porting-code-expired')
    if (code!.used) fail('porting-code-used')
    if ([...dir.ports.values()].some((p) => p.address === body.address && current(p).status === 'pending')) fail('port-already-pending')
    code!.used = true
    const now = new Date()
    const deadline = new Date(now.getTime() + dir.objectionWindowMs).toISOString()
    const port: Port = {
      portId: uuidv7(),
      address: body.address,
      donor: operator!,
      recipientOperator: iss,
      requestedAt: now.toISOString(),
      objectionDeadline: deadline,
      cutoverAt: deadline,
      status: 'pending',
    }
    dir.ports.set(port.portId, port)
    const answer = structuredClone(port)
    notify(port.donor, structuredClone(current(port)))
    return reply.code(201).send(answer)
  })

  app.get('/v1/directory/ports', async (req: any) => {
    const { iss } = await auth(req)
    const status = req.query?.status
    return { ports: [...dir.ports.values()].map(current).filter((p) => (p.donor === iss || p.recipientOperator === iss) && (!status || p.status === status)) }
  })

  app.get('/v1/directory/ports/:portId', async (req: any) => {
    const { iss } = await auth(req)
    const port = dir.ports.get(req.params.portId)
    if (!port || (port.donor !== iss && port.recipientOperator !== iss)) fail('not-found')
    return current(port!)
  })

  app.post('/v1/directory/ports/:portId/objection', async (req: any) => {
    const { iss, body } = await auth(req)
    const port = dir.ports.get(req.params.portId)
    if (!port) fail('not-found')
    if (port!.donor !== iss) fail('port-objection-forbidden')
    if (current(port!).status !== 'pending' || Date.now() >= Date.parse(port!.objectionDeadline)) fail('port-objection-closed')
    schema('port-objection.json', body)
    port!.status = 'objected'
    port!.reason = body.reason
    port!.updatedAt = new Date().toISOString()
    notify(port!.recipientOperator, structuredClone(port!))
    return port
  })

  app.post('/v1/directory/ports/:portId/cancellation', async (req: any) => {
    const { iss, body } = await auth(req)
    const port = dir.ports.get(req.params.portId)
    if (!port) fail('not-found')
    if (port!.recipientOperator !== iss) fail('port-cancel-forbidden')
    if (current(port!).status !== 'pending') fail('port-not-cancellable')
    schema('port-cancellation.json', body)
    port!.status = 'cancelled'
    port!.updatedAt = new Date().toISOString()
    return port
  })

  dir.url = await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  return dir
}

export interface Vault {
  id: string
  kit: VaultKit
  url: string
  signingKey: PrivateJwk
  encKey: PrivateJwk
  storage: MemoryVaultStorage | FsVaultStorage
}

export async function vault(t: Test, dir: FakeDirectory, id: string, kind: 'memory' | 'fs', routerKey: PrivateJwk): Promise<Vault> {
  const signingKey = await generateSigningKey()
  const encKey = await generateEncryptionKey()
  let storage: Vault['storage']
  if (kind === 'fs') {
    const root = await mkdtemp(join(tmpdir(), `timbre-${id}-`))
    t.teardown(() => rm(root, { recursive: true, force: true }))
    storage = new FsVaultStorage(root)
  } else storage = new MemoryVaultStorage()
  const routerPub = toPublicJwk(routerKey)
  const kit = new VaultKit({
    operatorId: id,
    signingKey,
    encryptionKeys: [encKey],
    storage,
    directoryUrl: dir.url,
    maxContentBytes: 8 * 1024 * 1024,
    resolveNodeKey: (iss, kid) => (iss === ROUTER && kid === routerPub.kid ? routerPub : undefined),
    resolveOperatorKey: (iss, kid) => {
      const op = dir.operators.get(iss)
      return op?.key.kid === kid ? op.key : undefined
    },
    resolveDirectoryKey: (kid) => (kid === dir.key.kid ? toPublicJwk(dir.key) : undefined),
  })
  const app = Fastify()
  await app.register(kit.fastifyPlugin({ bodyLimit: 15_000_000 }))
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  dir.operators.set(id, { key: toPublicJwk(signingKey), baseUrl: url })
  return { id, kit, url, signingKey, encKey, storage }
}

/** Relay one document into a vault through its relay handler (real proofs, stamp and route). */
export async function deposit(v: Vault, dir: FakeDirectory, routerKey: PrivateJwk, senderKey: PrivateJwk, address: string, document: Uint8Array | string, messageId = uuidv7()) {
  const sealed = await sealEnvelope({
    messageId,
    sender: SENDER,
    recipient: address,
    documentType: 'payslip',
    title: `Payslip ${messageId.slice(-4)}`,
    issueDate: '2026-11-28',
    mediaType: 'application/pdf',
    document,
    senderKey,
    recipientKey: toPublicJwk(v.encKey),
  })
  const m = sealed.metadata
  const { jws: stamp } = await signEvidence(
    {
      event: 'SubmissionAcceptance',
      issuer: ROUTER,
      messageId: m.messageId,
      sender: m.sender,
      recipient: m.recipient,
      contentDigest: m.content.digest,
      envelopeDigest: tokenDigest(sealed.envelope),
      senderKid: senderKey.kid,
      stampClass: 'standard',
      recipientOperator: v.id,
    },
    routerKey,
  )
  const now = new Date().toISOString()
  const route = await signDirectoryLine(
    { v: 1, address, operator: v.id, relayEndpoint: `${v.url}/v1/relay`, encryptionKeys: [toPublicJwk(v.encKey)], version: 1, validFrom: now, validTo: null, issuedAt: now, issuer: DIRECTORY },
    dir.key,
  )
  const body = JSON.stringify({ envelope: sealed.envelope, content: sealed.content, stamp, senderKey: toPublicJwk(senderKey), route })
  const authorization = await createRequestProof({ key: routerKey, iss: ROUTER, aud: v.id, method: 'POST', path: '/v1/relay', body })
  const res = await v.kit.relayHandler()({ method: 'POST', path: '/v1/relay', headers: { 'content-type': 'application/json', authorization }, rawBody: Buffer.from(body) })
  return { res, sealed }
}
