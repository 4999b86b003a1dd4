// GET /v1/directory/operators/{operatorId} (TMB-DIR-012): the operator record, public.
import type { FastifyInstance } from 'fastify'
import type { LocalDirectory } from '../../domain/local-directory.js'
import { operatorBody } from '../../domain/operator-record.js'
import { NodeError } from '../../errors.js'

export async function directoryOperatorRoutes(app: FastifyInstance, directory: LocalDirectory): Promise<void> {
  app.get<{ Params: { operatorId: string } }>('/v1/directory/operators/:operatorId', async (request, reply) => {
    const op = await directory.operators.get(request.params.operatorId)
    if (!op) throw new NodeError('not-found', { detail: `no operator ${request.params.operatorId}` })
    reply.header('cache-control', 'public, max-age=60')
    return operatorBody(op)
  })
}
