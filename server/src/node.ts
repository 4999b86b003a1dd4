// Starting and stopping a whole node: configuration → database → keys →
// HTTP app → listen. The CLI's `timbre start`, the tests and the demo all
// come through here.
import type { FastifyInstance } from 'fastify'
import { resolveAdminToken } from './config/admin-token.js'
import { insecureDefaults } from './config/announce.js'
import type { NodeConfig } from './config/schema.js'
import { loadOrCreateNodeKeys, type NodeKeyring } from './domain/node-keys.js'
import { buildApp } from './http/app.js'
import { publicBaseUrl } from './http/base-url.js'
import type { OpenApiDocument } from './http/openapi.js'
import { createLogger, type Logger } from './logger.js'
import { openStore, type Store } from './store/db.js'
import { NodeKeysRepository } from './store/node-keys-repository.js'
import { createDirectory } from './domain/directory-choice.js'
import { registerSelfIfLocal } from './domain/self-registration.js'
import type { DirectoryView } from './domain/directory-view.js'
import type { Clock } from './domain/routing.js'
import { OutboxWorker } from './worker/outbox-worker.js'
import { PortingWorker } from './worker/porting-worker.js'

export interface StartNodeOptions {
  readonly config: NodeConfig
  /** An open, migrated store to use instead of opening one; the node will not close it. */
  readonly store?: Store
  readonly logger?: Logger
  readonly openapi?: OpenApiDocument
  /** Routing role: the directory to use instead of the node's own (tests). */
  readonly directory?: DirectoryView
  /** Routing role: the clock (tests). */
  readonly now?: Clock
  /** Routing role: run the outbox worker (default true). */
  readonly worker?: boolean
}

/** A listening node. */
export interface RunningNode {
  readonly config: NodeConfig
  readonly app: FastifyInstance
  readonly store: Store
  readonly keys: NodeKeyring
  /** The announced base URL, e.g. `http://127.0.0.1:8080` or the configured TIMBRE_BASE_URL. */
  readonly url: string
  /** Where the server actually listens (differs from `url` behind a proxy or with a configured base URL). */
  readonly listenUrl: string
  /** The admin API's bearer token in effect. */
  readonly adminToken: string
  /** The directory the node consults: its own (directory role) or the remote one at directoryUrl. */
  readonly directory: DirectoryView
  /** The outbox worker (relays and webhooks of the routing role, Handover pushes of the vault role). */
  readonly worker: OutboxWorker | null
  /** The portability worker (ports, pushes, archive transfers) and the directory replica. */
  readonly porting: PortingWorker | null
  /** Stop accepting, finish in-flight requests, close the database. Idempotent. */
  close(): Promise<void>
}

export async function startNode(options: StartNodeOptions): Promise<RunningNode> {
  const { config } = options
  const logger = options.logger ?? createLogger(config.logLevel)
  const admin = resolveAdminToken(config)
  for (const warning of insecureDefaults(config, admin)) logger.warn({ insecure: true }, `INSECURE/DEV DEFAULT: ${warning}`)

  const ownsStore = options.store === undefined
  const store = options.store ?? (await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl }))
  let app: FastifyInstance | undefined
  let worker: OutboxWorker | null = null
  let porting: PortingWorker | null = null
  try {
    const { keyring, created } = await loadOrCreateNodeKeys(new NodeKeysRepository(store.db))
    if (created.length > 0) logger.info({ kids: created }, 'generated node keys')
    const nodeDirectory = createDirectory(config, store.db, keyring)
    app = await buildApp({ nodeDirectory, config, db: store.db, keys: keyring, logger, adminToken: admin.token, ...(options.openapi && { openapi: options.openapi }), ...(options.directory && { directory: options.directory }), ...(options.now && { now: options.now }) })
    await app.listen({ host: config.host, port: config.port })
    if (app.timbreOutbox) {
      const routing = app.timbreOutbox
      worker = new OutboxWorker(routing)
      const w = worker
      routing.onKick(() => w.kick())
      if (options.worker !== false) w.start()
    }
    if (app.timbrePorting) {
      porting = new PortingWorker(app.timbrePorting)
      if (options.worker !== false) porting.start()
      app.timbrePorting.replica?.start()
    }
    const url = publicBaseUrl(app, config)
    // The node must be an operator of its own directory before its vault or routing role can be trusted.
    if (await registerSelfIfLocal(nodeDirectory, config, keyring, url)) logger.info({ nodeId: config.nodeId }, 'registered this node in its directory')
    const listenUrl = publicBaseUrl(app, { ...config, baseUrl: null })
    logger.info({ url, nodeId: config.nodeId, roles: config.roles, database: store.location }, 'timbre node started')

    let closing: Promise<void> | undefined
    const started = app
    return {
      config,
      app: started,
      store,
      keys: keyring,
      url,
      listenUrl,
      adminToken: admin.token,
      directory: options.directory ?? started.timbreRouting?.directory ?? nodeDirectory,
      worker,
      porting,
      close() {
        closing ??= (async () => {
          try {
            await started.close()
            await worker?.stop()
            started.timbrePorting?.replica?.stop()
            await porting?.stop()
          } finally {
            if (ownsStore) await store.close()
            logger.info('timbre node stopped')
          }
        })()
        return closing
      },
    }
  } catch (err) {
    await worker?.stop().catch(() => {})
    await porting?.stop().catch(() => {})
    await app?.close().catch(() => {})
    if (ownsStore) await store.close().catch(() => {})
    throw err
  }
}
