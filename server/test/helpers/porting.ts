// A three-node portability network on loopback: D plays routing node +
// directory, A and B are vault-operator-only nodes with their own databases,
// admitted at D. A hosts an address; a sender is registered at D with a
// TimbreClient (automatic re-route on).
import { generateSigningKey, TimbreClient, toPublicJwk, type PrivateJwk } from '@timbre/sdk'
import type { ConfigOverrides } from '../../src/config/load-config.js'
import { startNode, type RunningNode } from '../../src/node.js'
import type { Store } from '../../src/store/db.js'
import { testStore, type Teardown } from './db.js'
import { call } from './http.js'
import { testConfig } from './node.js'

export interface PortingNet {
  d: RunningNode
  a: RunningNode
  b: RunningNode
  stores: { d: Store; a: Store; b: Store }
  /** Open an account at A (its line registered at D). */
  openAtA(): Promise<string>
  sender: { id: string; key: PrivateJwk; client: TimbreClient }
  /** Restart A on its store (a crash and restart of the donor). */
  restartA(): Promise<RunningNode>
}

export const FAST = { retryBaseMs: 20, retryCapMs: 300, pollIntervalMs: 20, relayTimeoutMs: 5_000, leaseMs: 10_000 }

export async function portingNet(t: Teardown, o: { windowSeconds?: number; aWorker?: boolean; concurrency?: number; purgePortedAfterSeconds?: number | null } = {}): Promise<PortingNet> {
  const stores = { d: await testStore(t), a: await testStore(t), b: await testStore(t) }
  const start = async (store: Store, overrides: ConfigOverrides, worker = true) => {
    const node = await startNode({ config: testConfig(overrides), store, worker })
    t.teardown(() => node.close())
    return node
  }
  const portability = { objectionWindowSeconds: o.windowSeconds ?? 0, workerPollMs: 100, replicaPollMs: 1_000, ...(o.purgePortedAfterSeconds !== undefined ? { purgePortedAfterSeconds: o.purgePortedAfterSeconds } : {}) }
  const d = await start(stores.d, { nodeId: 'directory-d', roles: ['routing-node', 'directory'], portability, delivery: { ...FAST, concurrency: o.concurrency ?? 32, batchSize: 64 } })
  const vaultOverrides = (id: string): ConfigOverrides => ({ nodeId: id, roles: ['vault-operator'], directoryUrl: d.url, portability })
  let a = await start(stores.a, vaultOverrides('vault-a'), o.aWorker ?? true)
  const b = await start(stores.b, vaultOverrides('vault-b'))
  for (const [id, node] of [['vault-a', a], ['vault-b', b]] as const) {
    const jwks = (await call(node.url, 'GET', '/.well-known/jwks.json')).json
    const res = await call(d.url, 'POST', '/v1/admin/operators', { admin: true, body: { id, roles: ['vault-operator'], baseUrl: node.url, jwks } })
    if (res.status !== 201 && res.status !== 200) throw new Error(res.text)
  }
  const key = await generateSigningKey()
  const senderId = `0009:${String(Date.now()).slice(-9)}${Math.floor(Math.random() * 1e5)}`
  const added = await call(d.url, 'POST', '/v1/admin/senders', { admin: true, body: { id: senderId, jwk: toPublicJwk(key) } })
  if (added.status !== 201) throw new Error(added.text)
  const client = new TimbreClient({ baseUrl: d.url, senderId, key, directoryUrl: d.url, retry: { attempts: 5, baseMs: 50, capMs: 500 } })
  const net: PortingNet = {
    d,
    a,
    b,
    stores,
    sender: { id: senderId, key, client },
    async openAtA() {
      const res = await call(net.a.url, 'POST', '/v1/admin/vault-addresses', { admin: true, body: {} })
      if (res.status !== 201) throw new Error(res.text)
      return res.json.address as string
    },
    async restartA() {
      await net.a.close()
      // Same store, same port-less config: the jobs in its database are taken up again.
      a = await start(stores.a, { ...vaultOverrides('vault-a') }, true)
      net.a = a
      // Its base URL changed (port 0): re-admit it with the new one.
      const jwks = (await call(a.url, 'GET', '/.well-known/jwks.json')).json
      await call(d.url, 'POST', '/v1/admin/operators', { admin: true, body: { id: 'vault-a', roles: ['vault-operator'], baseUrl: a.url, jwks } })
      return a
    },
  }
  return net
}

/** Admin call helper. */
export const admin = (node: RunningNode, method: string, path: string, body?: unknown) => call(node.url, method, path, { admin: true, ...(body !== undefined ? { body } : {}) })

/** Number of documents a vault node holds for an address. */
export async function held(node: RunningNode, address: string): Promise<number> {
  return node.app.timbrePorting!.vault!.storage.count(address)
}
