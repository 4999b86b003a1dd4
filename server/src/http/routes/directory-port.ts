// GET /v1/directory/ports/{portId} (getPort, TMB-PORT-014): to the donor and
// the new operator only; 404 to anyone else. Never the code.
import { UUID_PATTERN } from '@timbre/sdk'
import type { FastifyInstance } from 'fastify'
import type { LocalDirectory } from '../../domain/local-directory.js'
import { portRecord, type PortingService } from '../../domain/porting.js'
import { NodeError } from '../../errors.js'
import type { ReplayRepository } from '../../store/replay-repository.js'
import type { AppContext } from '../context.js'
import { verifyOperatorProof } from '../operator-proof.js'

export async function directoryPortRoutes(app: FastifyInstance, ctx: AppContext, directory: LocalDirectory, replay: ReplayRepository, porting: PortingService): Promise<void> {
  app.get<{ Params: { portId: string } }>('/v1/directory/ports/:portId', async (request, reply) => {
    const claims = await verifyOperatorProof(request, reply, { aud: ctx.config.nodeId, role: 'vault-operator', directory, replay })
    const port = UUID_PATTERN.test(request.params.portId) ? await porting.get(request.params.portId) : undefined
    if (!port || (port.donor !== claims.iss && port.recipientOperator !== claims.iss)) throw new NodeError('not-found', { detail: 'no such port' })
    reply.header('cache-control', 'no-store')
    return portRecord(port)
  })
}
