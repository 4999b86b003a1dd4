// A small Timbre network on loopback, in this process, through the server's
// public entry points (loadConfig, startNode): one routing node that is also
// the directory, and vault operator nodes pointing at that directory. Each
// node has its own embedded PGlite database in its own data dir.
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import type { PublicJwk } from '@timbre/sdk'
import { loadConfig, startNode, type ConfigOverrides, type RunningNode } from '@timbre/server'
import { AdminApi } from '../lib/admin.js'
import { jsonRequest, waitUntilUp } from '../lib/http.js'
import { DEMO_METERING, DemoClock } from './metering.js'

export interface DemoNode {
  readonly id: string
  readonly url: string
  readonly adminToken: string
  readonly admin: AdminApi
  readonly node: RunningNode
}

export interface DemoNetwork {
  readonly router: DemoNode
  readonly vaults: DemoNode[]
  /** The nodes' shared clock (metering closes the month with it). */
  readonly clock: DemoClock
  close(): Promise<void>
}

export interface NetworkOptions {
  /** Parent directory of the nodes' data dirs. */
  root: string
  /** Vault operator ids, one node each. */
  vaultIds: string[]
  routerId?: string
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  /** Called as each node is up. */
  onNode?: (role: string, node: DemoNode) => void
}

const token = () => randomBytes(24).toString('base64url')

async function start(id: string, overrides: ConfigOverrides, clock?: DemoClock): Promise<DemoNode> {
  const adminToken = token()
  // No environment: the demo's network does not depend on the caller's TIMBRE_* settings.
  const config = loadConfig({ env: {}, overrides: { host: '127.0.0.1', port: 0, nodeId: id, adminToken, ...overrides } })
  const node = await startNode({ config, ...(clock && { now: clock.now }) })
  await waitUntilUp(`${node.listenUrl}/ready`, 20_000)
  return { id, url: node.url, adminToken: node.adminToken, admin: new AdminApi(node.url, node.adminToken), node }
}

/** Start the network; on any failure, stop what already started. */
export async function startNetwork(options: NetworkOptions): Promise<DemoNetwork> {
  const started: DemoNode[] = []
  const clock = new DemoClock()
  const close = async () => {
    // Stop in reverse order; a node failing to stop must not keep the others running.
    const errors: unknown[] = []
    for (const n of started.reverse()) await n.node.close().catch((err: unknown) => errors.push(err))
    started.length = 0
    if (errors.length) throw new AggregateError(errors, 'some nodes did not stop cleanly')
  }
  const logLevel = options.logLevel ?? 'error'
  // Short retry timings: on loopback a failed relay is worth retrying at once.
  const delivery = { pollIntervalMs: 50, retryBaseMs: 200, retryCapMs: 2_000 }
  try {
    const router = await start(options.routerId ?? 'router.demo', {
      roles: ['routing-node', 'directory'],
      dataDir: join(options.root, 'router'),
      logLevel,
      delivery,
      // A short objection window so the demo's port cuts over in seconds (900 s by default, TMB-PORT-012).
      portability: { objectionWindowSeconds: 2, workerPollMs: 200 },
      metering: DEMO_METERING,
    }, clock)
    started.push(router)
    options.onNode?.('routing node + directory', router)
    const vaults: DemoNode[] = []
    for (const id of options.vaultIds) {
      const vault = await start(id, {
        roles: ['vault-operator'],
        dataDir: join(options.root, id),
        directoryUrl: router.url,
        logLevel,
        delivery,
        portability: { workerPollMs: 200 },
        metering: DEMO_METERING,
      }, clock)
      started.push(vault)
      vaults.push(vault)
      options.onNode?.('vault operator', vault)
    }
    return { router, vaults, clock, close }
  } catch (err) {
    await close().catch(() => {})
    throw err
  }
}

/**
 * Admit nodes at the directory (`POST /v1/admin/operators`) with the keys
 * each publishes in its JWKS. Returns the ids newly registered.
 */
export async function registerOperators(directory: DemoNode, nodes: Array<{ node: DemoNode; roles: string[]; name: string }>): Promise<string[]> {
  const fresh: string[] = []
  for (const { node, roles, name } of nodes) {
    const { body: jwks } = await jsonRequest<{ keys: PublicJwk[] }>(`${node.url}/.well-known/jwks.json`)
    const created = await directory.admin.registerOperator({
      id: node.id,
      name,
      roles,
      baseUrl: node.url,
      ...(roles.includes('vault-operator') && { relayEndpoint: `${node.url}/v1/relay` }),
      jwks: { keys: jwks.keys },
      status: 'active',
    })
    if (created) fresh.push(node.id)
  }
  return fresh
}
