// The node's HTTP application: Fastify with request ids, raw-body JSON
// parsing, problem+json for every error, and the route plugins of the roles
// switched on. Building does not listen; startNode (node.ts) does.
import fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { Kysely } from 'kysely'
import type { NodeConfig } from '../config/schema.js'
import type { NodeKeyring } from '../domain/node-keys.js'
import { SenderRegistry } from '../domain/senders.js'
import { NodeError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { Database } from '../store/schema.js'
import { SendersRepository } from '../store/senders-repository.js'
import { NODE_VERSION } from '../version.js'
import { publicBaseUrl } from './base-url.js'
import type { AppContext } from './context.js'
import { registerJsonBody } from './json-body.js'
import { loadOpenApiDocument, registerOpenApi, type OpenApiDocument } from './openapi.js'
import { sendProblem, toNodeError } from './problem.js'
import { genReqId, REQUEST_ID_HEADERS } from './request-id.js'
import { adminSenderRoutes } from './routes/admin-senders.js'
import { healthRoutes } from './routes/health.js'
import { wellKnownRoutes } from './routes/well-known.js'
import { createDirectory, type NodeDirectory } from '../domain/directory-choice.js'
import { registerDirectoryAndVaultRoutes } from './role-routes.js'
import type { DirectoryView } from '../domain/directory-view.js'
import { createRoutingServices, type Clock, type RoutingServices } from '../domain/routing.js'
import { routingRoutes } from './routes/submissions.js'
import { meteringRoutes } from './routes/metering.js'
import { routingDirectory } from '../domain/directory-replica.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The routing node's services when that role is on (the worker in node.ts uses them). */
    timbreRouting: (RoutingServices & { onKick(fn: () => void): void }) | null
    /**
     * The services of the node's outbox worker: those of the routing role, or
     * on a vault-operator-only node the same bag for its Handover pushes (7.6).
     */
    timbreOutbox: (RoutingServices & { onKick(fn: () => void): void }) | null
  }
}

export interface BuildAppOptions {
  readonly config: NodeConfig
  readonly db: Kysely<Database>
  readonly keys: NodeKeyring
  readonly logger: Logger
  /** Admin bearer token; default `config.adminToken`. Null disables the admin API (every call 401). */
  readonly adminToken?: string | null
  /** The OpenAPI document to serve; default spec/openapi.yaml. */
  readonly openapi?: OpenApiDocument
  /** The node's own directory (local store or remote); default built from the config. */
  readonly nodeDirectory?: NodeDirectory
  /** Routing role: the directory to resolve recipients with; default `ctx.directory`. */
  readonly directory?: DirectoryView
  /** Routing role: the clock (tests). */
  readonly now?: Clock
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const

/** Methods routed for this concrete path (for 405 and its Allow header). */
function allowedMethods(app: FastifyInstance, url: string): string[] {
  const path = url.split('?')[0] ?? url
  return METHODS.filter((method) => app.findRoute({ method, url: path }) !== null)
}

/** A node's Fastify instance, ready to `listen`. */
export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { config, db, keys, logger } = options
  const app: FastifyInstance = fastify({
    loggerInstance: logger as FastifyBaseLogger,
    genReqId,
    requestIdHeader: false,
    bodyLimit: config.limits.maxRequestBytes,
    // Our own onRequest hook answers during shutdown, as problem+json.
    return503OnClosing: false,
    // Framework-level failures (e.g. an undecodable URL) also answer problem+json.
    frameworkErrors: (error, request, reply) => {
      for (const h of REQUEST_ID_HEADERS) reply.header(h, request.id)
      void sendProblem(request, reply, toNodeError(error).error)
    },
  })

  let draining = false
  app.addHook('preClose', async () => { draining = true })

  const nodeDirectory = options.nodeDirectory ?? createDirectory(config, db, keys)
  const ctx: AppContext = {
    config,
    db,
    keys,
    senders: new SenderRegistry(new SendersRepository(db)),
    // A routing node on a remote directory routes from a local replica (spec 8.4).
    directory: options.directory ?? routingDirectory(config, db, nodeDirectory, logger),
    adminToken: options.adminToken === undefined ? config.adminToken : options.adminToken,
    baseUrl: () => publicBaseUrl(app, config),
    draining: () => draining,
  }

  app.addHook('onRequest', async (request, reply) => {
    for (const h of REQUEST_ID_HEADERS) reply.header(h, request.id)
    // Requests that arrive on kept-alive connections while we drain go elsewhere.
    if (draining && request.url !== '/health') {
      reply.header('connection', 'close')
      return sendProblem(request, reply, new NodeError('unavailable', { detail: 'the node is shutting down', retryAfter: 5 }))
    }
  })

  registerJsonBody(app)

  app.setErrorHandler(async (err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const { error, internal } = toNodeError(err)
    if (internal) request.log.error({ err }, 'internal error')
    else request.log.info({ code: error.code, detail: error.detail }, 'request refused')
    return sendProblem(request, reply, error)
  })

  app.setNotFoundHandler(async (request, reply) => {
    const allowed = allowedMethods(app, request.url)
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '))
      return sendProblem(request, reply, new NodeError('method-not-allowed', { detail: `${request.method} is not allowed here; allowed: ${allowed.join(', ')}` }))
    }
    return sendProblem(request, reply, new NodeError('not-found', { detail: `no resource at ${request.url.split('?')[0]}` }))
  })

  await registerOpenApi(app, options.openapi ?? loadOpenApiDocument(), ctx.baseUrl)
  await app.register(async (scope) => wellKnownRoutes(scope, ctx))
  await app.register(async (scope) => healthRoutes(scope, ctx, NODE_VERSION))
  await app.register(async (scope) => adminSenderRoutes(scope, ctx))
  // The outbox worker serves the routing role (relays, webhooks) and the vault role (Handover pushes).
  const outbox = config.roles.includes('routing-node') || config.roles.includes('vault-operator')
    ? createRoutingServices({ config, db, keys, directory: ctx.directory, logger, ...(options.now && { now: options.now }) })
    : null
  app.decorate('timbreOutbox', outbox)
  await registerDirectoryAndVaultRoutes(app, ctx, nodeDirectory, logger, () => outbox?.kick())
  app.decorate('timbreRouting', null)
  if (config.roles.includes('routing-node') && outbox) {
    const routing = outbox
    app.timbreRouting = routing
    await app.register(async (scope) => routingRoutes(scope, ctx, routing))
  }
  // Metering (spec chapter 11): stamps, statements, settlement.
  await app.register(async (scope) => meteringRoutes(scope, ctx, app.timbreRouting, options.now))
  return app
}

