// POST /v1/directory/ports (requestPort, 9.3) and GET /v1/directory/ports
// (listPorts, TMB-PORT-013). The checks of 9.3 in order: the proof (403
// node-untrusted), the schema (400), then PortingService for the rest.
import { assertSchema, assertVaultAddress } from '@timbre/sdk'
import type { FastifyInstance } from 'fastify'
import type { LocalDirectory } from '../../domain/local-directory.js'
import { portRecord, type PortingService, type PortRequestBody } from '../../domain/porting.js'
import { NodeError } from '../../errors.js'
import type { PortStatus } from '../../store/porting-repository.js'
import type { ReplayRepository } from '../../store/replay-repository.js'
import type { AppContext } from '../context.js'
import { verifyOperatorProof } from '../operator-proof.js'

const STATUSES = new Set(['pending', 'objected', 'cancelled', 'completed'])

export async function directoryPortsRoutes(app: FastifyInstance, ctx: AppContext, directory: LocalDirectory, replay: ReplayRepository, porting: PortingService): Promise<void> {
  app.post('/v1/directory/ports', async (request, reply) => {
    const claims = await verifyOperatorProof(request, reply, { aud: ctx.config.nodeId, role: 'vault-operator', directory, replay })
    const body = assertSchema<PortRequestBody>('port-request.json', request.body)
    if (body.recipientOperator !== claims.iss) throw new NodeError('sender-mismatch', { detail: `the proof is from ${claims.iss}, the body names ${body.recipientOperator}` })
    const address = assertVaultAddress(body.address)
    const port = await porting.requestPort(claims.iss, { ...body, address })
    reply.code(201)
    return portRecord(port)
  })

  app.get<{ Querystring: { status?: string } }>('/v1/directory/ports', async (request, reply) => {
    const claims = await verifyOperatorProof(request, reply, { aud: ctx.config.nodeId, role: 'vault-operator', directory, replay })
    const { status } = request.query
    if (status !== undefined && !STATUSES.has(status)) throw new NodeError('schema-violation', { detail: 'status must be pending, objected, cancelled or completed', extra: { errors: [{ path: 'status', message: 'unknown status' }] } })
    const ports = await porting.list(claims.iss, status as PortStatus | undefined)
    reply.header('cache-control', 'no-store')
    return { ports: ports.map(portRecord) }
  })
}
