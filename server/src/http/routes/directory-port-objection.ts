// POST /v1/directory/ports/{portId}/objection (objectPort, TMB-PORT-016/-017):
// the donor only, a reason code of 9.4, before the deadline.
import { assertSchema, UUID_PATTERN } from '@timbre/sdk'
import type { FastifyInstance } from 'fastify'
import type { LocalDirectory } from '../../domain/local-directory.js'
import { portRecord, type PortingService } from '../../domain/porting.js'
import { NodeError } from '../../errors.js'
import type { ReplayRepository } from '../../store/replay-repository.js'
import type { AppContext } from '../context.js'
import { verifyOperatorProof } from '../operator-proof.js'

export async function directoryPortObjectionRoutes(app: FastifyInstance, ctx: AppContext, directory: LocalDirectory, replay: ReplayRepository, porting: PortingService): Promise<void> {
  app.post<{ Params: { portId: string } }>('/v1/directory/ports/:portId/objection', async (request, reply) => {
    const claims = await verifyOperatorProof(request, reply, { aud: ctx.config.nodeId, role: 'vault-operator', directory, replay })
    const body = assertSchema<{ reason: { code: string; detail?: string } }>('port-objection.json', request.body)
    if (!UUID_PATTERN.test(request.params.portId)) throw new NodeError('not-found', { detail: 'no such port' })
    return portRecord(await porting.object(claims.iss, request.params.portId, body.reason))
  })
}
