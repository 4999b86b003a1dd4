// Route wiring of portability (chapter 9) and directory replicas (8.3, 8.4),
// and the runtime the portability worker uses (node.ts starts it).
import type { FastifyInstance } from 'fastify'
import type { NodeDirectory } from '../domain/directory-choice.js'
import { DirectoryReplica } from '../domain/directory-replica.js'
import { LocalDirectory } from '../domain/local-directory.js'
import { PortingService } from '../domain/porting.js'
import { queueArchiveTransfer, queuePortNotifications, type PortingRuntime } from '../domain/porting-runtime.js'
import { RemoteDirectory } from '../domain/remote-directory.js'
import type { VaultRole } from '../domain/vault-role.js'
import type { Logger } from '../logger.js'
import { PortingRepository } from '../store/porting-repository.js'
import { ReplayRepository } from '../store/replay-repository.js'
import type { AppContext } from './context.js'
import { adminPortRoutes } from './routes/admin-ports.js'
import { adminPortingCodeRoutes } from './routes/admin-porting-code.js'
import { adminVaultArchiveRoutes } from './routes/admin-vault-archive.js'
import { directoryNotificationRoutes } from './routes/notifications-directory.js'
import { directoryPortCancellationRoutes } from './routes/directory-port-cancellation.js'
import { directoryPortObjectionRoutes } from './routes/directory-port-objection.js'
import { directoryPortRoutes } from './routes/directory-port.js'
import { directoryPortingCodeRoutes } from './routes/directory-porting-codes.js'
import { directoryPortsRoutes } from './routes/directory-ports.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Portability of this node (directory ports, vault transfers, replica); the worker in node.ts runs it. */
    timbrePorting: PortingRuntime | null
  }
}

export async function registerPortingRoutes(app: FastifyInstance, ctx: AppContext, directory: NodeDirectory, vault: VaultRole | null, logger: Logger): Promise<PortingRuntime> {
  const replay = new ReplayRepository(ctx.db)
  const repo = new PortingRepository(ctx.db)
  const local = ctx.config.roles.includes('directory') && directory instanceof LocalDirectory ? directory : null
  const service = local ? new PortingService(repo, local, ctx.config.portability.objectionWindowSeconds) : null
  const replica = ctx.directory instanceof DirectoryReplica ? ctx.directory : null
  let kicker = (): void => {}
  const rt: PortingRuntime = {
    config: ctx.config,
    keys: ctx.keys,
    logger: logger.child({ component: 'portability' }),
    repo,
    directory,
    service,
    vault,
    replica,
    kick: () => kicker(),
    onKick: (fn) => { kicker = fn },
  }
  if (service && local) {
    service.onChange((port, event) => queuePortNotifications(rt, port, event))
    await app.register(async (scope) => directoryPortingCodeRoutes(scope, ctx, local, replay, service))
    await app.register(async (scope) => directoryPortsRoutes(scope, ctx, local, replay, service))
    await app.register(async (scope) => directoryPortRoutes(scope, ctx, local, replay, service))
    await app.register(async (scope) => directoryPortObjectionRoutes(scope, ctx, local, replay, service))
    await app.register(async (scope) => directoryPortCancellationRoutes(scope, ctx, local, replay, service))
  }
  if (vault) {
    // Donor: every port heard of (notification or sync) schedules its archive transfer at the cut-over.
    vault.kit.onPortUpdate((port) => queueArchiveTransfer(rt, port))
    await app.register(async (scope) => adminVaultArchiveRoutes(scope, ctx, vault))
    await app.register(async (scope) => adminPortingCodeRoutes(scope, ctx, vault))
    await app.register(async (scope) => adminPortRoutes(scope, ctx, vault))
  }
  if (ctx.config.roles.includes('routing-node')) {
    const directoryId = local ? async () => ctx.config.nodeId : directory instanceof RemoteDirectory ? () => directory.directoryId() : async () => ''
    await app.register(async (scope) => directoryNotificationRoutes(scope, ctx, ctx.directory, directoryId, replay, replica))
  }
  return rt
}
