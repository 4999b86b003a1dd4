// Route wiring of the directory and vault-operator roles, kept out of app.ts.
import type { FastifyInstance } from 'fastify'
import type { NodeDirectory } from '../domain/directory-choice.js'
import { LocalDirectory } from '../domain/local-directory.js'
import { TrustListPublisher } from '../domain/trust-list.js'
import { createVaultRole } from '../domain/vault-role.js'
import type { Logger } from '../logger.js'
import { OperatorsRepository } from '../store/operators-repository.js'
import { ReplayRepository } from '../store/replay-repository.js'
import type { AppContext } from './context.js'
import { adminOperatorRoutes } from './routes/admin-operators.js'
import { adminVaultAddressRoutes } from './routes/admin-vault-addresses.js'
import { directoryChangesRoutes } from './routes/directory-changes.js'
import { directoryLookupRoutes } from './routes/directory-lookup.js'
import { directoryOperatorRoutes } from './routes/directory-operators.js'
import { directoryPutRoutes } from './routes/directory-put.js'
import { relayRoutes } from './routes/relay.js'
import { trustListRoutes } from './routes/trust-list.js'
import { registerPortingRoutes } from './porting-routes.js'

export async function registerDirectoryAndVaultRoutes(app: FastifyInstance, ctx: AppContext, directory: NodeDirectory, logger: Logger, kickOutbox: () => void = () => {}): Promise<void> {
  const replay = new ReplayRepository(ctx.db)
  if (ctx.config.roles.includes('directory') && directory instanceof LocalDirectory) {
    const trustList = new TrustListPublisher(new OperatorsRepository(ctx.db), ctx.config.nodeId, ctx.keys.signingKey)
    await app.register(async (scope) => directoryLookupRoutes(scope, directory))
    await app.register(async (scope) => directoryPutRoutes(scope, ctx, directory, replay))
    await app.register(async (scope) => directoryOperatorRoutes(scope, directory))
    await app.register(async (scope) => directoryChangesRoutes(scope, directory))
    await app.register(async (scope) => trustListRoutes(scope, trustList))
    await app.register(async (scope) => adminOperatorRoutes(scope, ctx, directory))
  }
  let vault: ReturnType<typeof createVaultRole> | null = null
  if (ctx.config.roles.includes('vault-operator')) {
    // Relays trust routing nodes through the node's own directory (local or remote).
    // Portability calls go to this node's own directory when it is local (its URL is known once listening).
    const directoryUrl = directory instanceof LocalDirectory ? () => ctx.baseUrl() : undefined
    const role = createVaultRole(ctx.config, ctx.db, ctx.keys, directory, logger.child({ role: 'vault-operator' }), directoryUrl, kickOutbox)
    vault = role
    await app.register(async (scope) => relayRoutes(scope, ctx, role))
    await app.register(async (scope) => adminVaultAddressRoutes(scope, ctx, role, directory))
  }
  app.decorate('timbrePorting', await registerPortingRoutes(app, ctx, directory, vault, logger))
}
