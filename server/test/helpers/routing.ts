// Routing-node test fixtures: a directory double (DirectoryView, lines signed
// with the SDK's signDirectoryLine) served over HTTP for TimbreClient, real
// VaultKit vaults on loopback with switchable faults, registered senders,
// and row counts.
import Fastify, { type FastifyInstance } from 'fastify'
import {
  generateEncryptionKey,
  generateSigningKey,
  MemoryVaultStorage,
  signDirectoryLine,
  toPublicJwk,
  TimbreClient,
  VaultKit,
  type DirectoryLine,
  type PrivateJwk,
  type PublicJwk,
} from '@timbre/sdk'
import type { DirectoryView, OperatorRecord, ResolvedLine } from '../../src/domain/directory-view.js'
import type { RunningNode } from '../../src/node.js'
import type { Store } from '../../src/store/db.js'
import { SendersRepository } from '../../src/store/senders-repository.js'
import type { Teardown } from './db.js'
import { senderKey } from './keys.js'

export const DIRECTORY_ID = 'directory.test'

export class TestDirectory implements DirectoryView {
  readonly key: Promise<PrivateJwk> = generateSigningKey(new Date(Date.now() - 3_600_000))
  readonly operators = new Map<string, OperatorRecord>()
  readonly lines = new Map<string, ResolvedLine>()
  version = 0
  /** Delay of every lookup (to hold a submission in progress). */
  lookupDelayMs = 0
  url = ''

  addOperator(record: OperatorRecord): void {
    this.operators.set(record.id, record)
  }

  async setLine(address: string, operator: string): Promise<ResolvedLine> {
    const op = this.operators.get(operator)!
    const line: DirectoryLine = {
      v: 1,
      address,
      operator,
      relayEndpoint: op.relayEndpoint,
      encryptionKeys: op.jwks.keys.filter((k) => k.crv === 'X25519'),
      version: ++this.version,
      validFrom: new Date(Date.now() - 60_000).toISOString(),
      validTo: null,
      issuedAt: new Date().toISOString(),
      issuer: DIRECTORY_ID,
    }
    const resolved = { line, jws: await signDirectoryLine(line, await this.key) }
    this.lines.set(address, resolved)
    return resolved
  }

  async lookup(address: string): Promise<ResolvedLine | undefined> {
    if (this.lookupDelayMs) await new Promise((r) => setTimeout(r, this.lookupDelayMs))
    return this.lines.get(address)
  }

  async operator(id: string): Promise<OperatorRecord | undefined> {
    return this.operators.get(id)
  }

  async nodeKey(operatorId: string, kid: string): Promise<PublicJwk | undefined> {
    const op = this.operators.get(operatorId)
    return op?.status === 'active' ? op.jwks.keys.find((k) => k.kid === kid && k.crv === 'Ed25519') : undefined
  }

  async directoryKeys(): Promise<PublicJwk[]> {
    return [toPublicJwk(await this.key)]
  }

  /** Serve the directory API TimbreClient reads (lines, operator records, JWKS). */
  async serve(t: Teardown): Promise<string> {
    const app = Fastify()
    app.get('/.well-known/jwks.json', async () => ({ keys: await this.directoryKeys() }))
    app.get<{ Params: { address: string } }>('/v1/directory/addresses/:address', async (req, reply) => {
      const l = await this.lookup(req.params.address)
      if (!l) return reply.code(404).type('application/problem+json').send({ type: 'https://timbre.dev/problems/not-found', title: 'Not found', status: 404, code: 'not-found', retryable: false })
      return { line: l.jws }
    })
    app.get<{ Params: { id: string } }>('/v1/directory/operators/:id', async (req, reply) => {
      const op = this.operators.get(req.params.id)
      if (!op) return reply.code(404).type('application/problem+json').send({ type: 'https://timbre.dev/problems/not-found', title: 'Not found', status: 404, code: 'not-found', retryable: false })
      return op
    })
    await app.listen({ host: '127.0.0.1', port: 0 })
    t.teardown(() => app.close())
    const a = app.server.address() as { port: number }
    this.url = `http://127.0.0.1:${a.port}`
    return this.url
  }
}

export type VaultMode = { kind: 'ok' } | { kind: 'down' } | { kind: 'unavailable'; retryAfter: number } | { kind: 'slow'; ms: number }

export interface TestVault {
  id: string
  kit: VaultKit
  storage: MemoryVaultStorage
  app: FastifyInstance
  url: string
  mode: VaultMode
  /** Relay requests received. */
  hits: number
  close(): Promise<void>
}

/** A VaultKit vault on loopback, trusting the routing node `router` and the directory double. */
export async function startVault(t: Teardown, id: string, dir: TestDirectory, router: () => RunningNode): Promise<TestVault> {
  const signingKey = await generateSigningKey(new Date(Date.now() - 3_600_000))
  const enc = await generateEncryptionKey(new Date(Date.now() - 3_600_000))
  const storage = new MemoryVaultStorage()
  const kit = new VaultKit({
    operatorId: id,
    signingKey,
    encryptionKeys: [enc],
    storage,
    resolveNodeKey: (iss, kid) => {
      const node = router()
      return iss === node.config.nodeId ? node.keys.jwks().keys.find((k) => k.kid === kid) : undefined
    },
    resolveDirectoryKey: async (kid) => (await dir.directoryKeys()).find((k) => k.kid === kid),
  })
  const app = Fastify()
  const vault = { id, kit, storage, app, url: '', mode: { kind: 'ok' } as VaultMode, hits: 0, close: async () => { await app.close() } }
  app.addHook('onRequest', async (request, reply) => {
    if (request.url !== '/v1/relay') return
    vault.hits++
    const m = vault.mode
    if (m.kind === 'down') {
      request.raw.socket.destroy()
      return reply
    }
    if (m.kind === 'unavailable') {
      return reply.code(503).header('retry-after', String(m.retryAfter)).type('application/problem+json')
        .send({ type: 'https://timbre.dev/problems/unavailable', title: 'Unavailable', status: 503, code: 'unavailable', retryable: true, retryAfter: m.retryAfter })
    }
    if (m.kind === 'slow') await new Promise((r) => setTimeout(r, m.ms))
  })
  await app.register(kit.fastifyPlugin())
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  vault.url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  dir.addOperator({ id, baseUrl: vault.url, relayEndpoint: `${vault.url}/v1/relay`, roles: ['vault-operator'], status: 'active', jwks: kit.jwks() })
  return vault
}

export interface TestSender {
  id: string
  privateJwk: PrivateJwk
  publicJwk: PublicJwk
  client: TimbreClient
}

let senderSeq = 0
/** Register a sender at the node (through its store) and build its TimbreClient. */
export async function registerSender(node: RunningNode, store: Store, dir: TestDirectory, options: { webhookUrl?: string; id?: string } = {}): Promise<TestSender> {
  const keys = await senderKey()
  const id = options.id ?? `0009:${String(Date.now()).slice(-8)}${String(++senderSeq).padStart(4, '0')}${Math.floor(Math.random() * 100)}`
  await new SendersRepository(store.db).insert({ id, name: null, jwk: { ...keys.publicJwk }, kid: keys.publicJwk.kid, status: 'active', webhookUrl: options.webhookUrl ?? null })
  const client = new TimbreClient({ baseUrl: node.listenUrl, senderId: id, key: keys.privateJwk, directoryUrl: dir.url, retry: { attempts: 1 } })
  return { id, privateJwk: keys.privateJwk, publicJwk: keys.publicJwk, client }
}

/** Row counts of the routing node's tables. */
export async function counts(store: Store): Promise<Record<'deliveries' | 'evidence' | 'outbox' | 'idempotency' | 'nonces', number>> {
  const n = async (table: 'deliveries' | 'evidence' | 'outbox' | 'idempotency_keys' | 'replay_nonces') =>
    Number((await store.db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n)
  return { deliveries: await n('deliveries'), evidence: await n('evidence'), outbox: await n('outbox'), idempotency: await n('idempotency_keys'), nonces: await n('replay_nonces') }
}

/** Poll until `fn` is truthy (for background work), failing after `ms`. */
export async function until<T>(fn: () => Promise<T>, ms = 10_000, every = 20): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, every))
  }
}
