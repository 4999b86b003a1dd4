// POST /v1/notifications/directory (notifyDirectoryChange, TMB-DIR-019): the
// directory says the feed moved; the node answers 202 and reads the feed from
// its own cursor (never applying the notification itself).
import { assertSchema, TimbreError, verifyRequestProof } from '@timbre/sdk'
import type { FastifyInstance } from 'fastify'
import type { DirectoryReplica } from '../../domain/directory-replica.js'
import type { DirectoryView } from '../../domain/directory-view.js'
import { NodeError } from '../../errors.js'
import type { ReplayRepository } from '../../store/replay-repository.js'
import type { AppContext } from '../context.js'

export async function directoryNotificationRoutes(app: FastifyInstance, ctx: AppContext, directory: DirectoryView, directoryId: () => Promise<string>, replay: ReplayRepository, replica: DirectoryReplica | null): Promise<void> {
  app.post('/v1/notifications/directory', async (request, reply) => {
    try {
      const expected = await directoryId()
      const claims = await verifyRequestProof(request.headers.authorization, {
        aud: ctx.config.nodeId,
        method: request.method,
        path: request.url,
        body: request.rawBody,
        resolveKey: async (iss, kid) => {
          if (iss !== expected) throw new TimbreError('node-untrusted', { detail: 'directory notifications come from the directory only' })
          return (await directory.directoryKeys()).find((k) => k.kid === kid)
        },
      })
      if (!(await replay.claim(claims.jti, claims.exp))) throw new NodeError('request-replayed', { detail: 'this proof was already used' })
    } catch (err) {
      if ((err as { status?: number }).status === 401) reply.header('www-authenticate', 'Timbre')
      throw err
    }
    assertSchema('directory-notification.json', request.body)
    // A local directory needs no replica: its table is the replica.
    if (replica) void replica.sync().catch(() => undefined)
    reply.code(202)
    return reply.send()
  })
}
