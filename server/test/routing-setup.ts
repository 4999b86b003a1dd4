// Shared setup of the routing-node tests (not a test file itself).
import { createRequestProof, sealEnvelope, type PrivateJwk } from '@timbre/sdk'
import type { ConfigOverrides } from '../src/config/load-config.js'
import { startNode, type RunningNode } from '../src/node.js'
import type { Store } from '../src/store/db.js'
import { testStore, type Teardown } from './helpers/db.js'
import { call, type Answer } from './helpers/http.js'
import { testConfig } from './helpers/node.js'
import { registerSender, startVault, TestDirectory, type TestSender, type TestVault } from './helpers/routing.js'

export interface RoutingFixture {
  dir: TestDirectory
  store: Store
  node: RunningNode
  vault: TestVault
  address: string
  sender: TestSender
}

export const FAST_DELIVERY = { retryBaseMs: 10, retryCapMs: 200, pollIntervalMs: 20, relayTimeoutMs: 2_000, leaseMs: 5_000 }

export async function routingFixture(t: Teardown, overrides: ConfigOverrides = {}, options: { webhookUrl?: string; store?: Store } = {}): Promise<RoutingFixture> {
  const dir = new TestDirectory()
  await dir.serve(t)
  const store = options.store ?? (await testStore(t))
  let node: RunningNode | undefined
  const vault = await startVault(t, 'vault-a.test', dir, () => node!)
  node = await startNode({
    config: testConfig({ roles: ['routing-node'], ...overrides, delivery: { ...FAST_DELIVERY, ...overrides.delivery } }),
    store,
    directory: dir,
  })
  const started = node
  t.teardown(() => started.close())
  const address = await vault.kit.openAccount()
  await dir.setLine(address, vault.id)
  const sender = await registerSender(node, store, dir, options.webhookUrl ? { webhookUrl: options.webhookUrl } : {})
  return { dir, store, node, vault, address, sender }
}

/** Seal a document for the line of `address`. */
export async function seal(f: RoutingFixture, options: { document?: string; messageId?: string; key?: PrivateJwk; sender?: string; address?: string } = {}) {
  const address = options.address ?? f.address
  const line = (await f.dir.lookup(address))!.line
  return sealEnvelope({
    ...(options.messageId ? { messageId: options.messageId } : {}),
    sender: options.sender ?? f.sender.id,
    recipient: address,
    documentType: 'payslip',
    title: 'Payslip',
    mediaType: 'text/plain',
    document: options.document ?? 'hello vault',
    senderKey: options.key ?? f.sender.privateJwk,
    recipientKey: line.encryptionKeys[0]!,
  })
}

export interface RawSubmit {
  body: string | Buffer
  contentType?: string
  idempotencyKey?: string | null
  authorization?: string | null
  key?: PrivateJwk
  iss?: string
  path?: string
}

/** A hand-made submission: proof over the exact bytes unless given. */
export async function submitRaw(f: RoutingFixture, s: RawSubmit): Promise<Answer & { authorization: string }> {
  const path = s.path ?? '/v1/submissions'
  const authorization = s.authorization === undefined
    ? await createRequestProof({ key: s.key ?? f.sender.privateJwk, iss: s.iss ?? f.sender.id, aud: f.node.config.nodeId, method: 'POST', path, body: s.body })
    : s.authorization
  const headers: Record<string, string> = { 'content-type': s.contentType ?? 'application/json' }
  if (authorization !== null) headers.authorization = authorization
  if (s.idempotencyKey !== null) headers['idempotency-key'] = s.idempotencyKey ?? `k-${Math.random().toString(36).slice(2)}`
  const res = await call(f.node.listenUrl, 'POST', path, { body: s.body, headers })
  return { ...res, authorization: authorization ?? '' }
}
