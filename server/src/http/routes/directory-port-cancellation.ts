// POST /v1/directory/ports/{portId}/cancellation (cancelPort, TMB-PORT-019/-020):
// the new operator only, before the cut-over.
import { assertSchema, UUID_PATTERN } from '@timbre/sdk'
import type { FastifyInstance } from 'fastify'
import type { LocalDirectory } from '../../domain/local-directory.js'
import { portRecord, type PortingService } from '../../domain/porting.js'
import { NodeError } from '../../errors.js'
import type { ReplayRepository } from '../../store/replay-repository.js'
import type { AppContext } from '../context.js'
import { verifyOperatorProof } from '../operator-proof.js'

export async function directoryPortCancellationRoutes(app: FastifyInstance, ctx: AppContext, directory: LocalDirectory, replay: ReplayRepository, porting: PortingService): Promise<void> {
  app.post<{ Params: { portId: string } }>('/v1/directory/ports/:portId/cancellation', async (request, reply) => {
    const claims = await verifyOperatorProof(request, reply, { aud: ctx.config.nodeId, role: 'vault-operator', directory, replay })
    assertSchema('port-cancellation.json', request.body ?? {})
    if (!UUID_PATTERN.test(request.params.portId)) throw new NodeError('not-found', { detail: 'no such port' })
    return portRecord(await porting.cancel(claims.iss, request.params.portId))
  })
}
