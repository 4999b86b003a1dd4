// The new operator's single window on the reference node (spec 9.3):
// POST /v1/admin/ports files a port with the person's code and consent
// (TMB-PORT-007, -010), GET /v1/admin/ports[?status] and
// GET /v1/admin/ports/{portId} show this operator's ports as the directory
// holds them, POST /v1/admin/ports/{portId}/cancellation cancels one on the
// person's word (TMB-PORT-019). Behind the admin token.
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { PortStatus } from '@timbre/sdk/vault'
import type { VaultRole } from '../../domain/vault-role.js'
import { NodeError } from '../../errors.js'
import { adminAuth } from '../admin-auth.js'
import type { AppContext } from '../context.js'

const REQUEST = {
  type: 'object',
  additionalProperties: false,
  required: ['address', 'portingCode'],
  properties: {
    address: { type: 'string', minLength: 1, maxLength: 64 },
    portingCode: { type: 'string', minLength: 1, maxLength: 64 },
    consent: {
      type: 'object',
      additionalProperties: false,
      properties: { givenAt: { type: 'string', format: 'date-time' }, reference: { type: 'string', minLength: 1, maxLength: 200 } },
    },
  },
} as const

const STATUSES = new Set(['pending', 'objected', 'cancelled', 'completed'])

export async function adminPortRoutes(app: FastifyInstance, ctx: AppContext, vault: VaultRole): Promise<void> {
  app.addHook('onRequest', adminAuth(ctx.adminToken))

  app.post('/v1/admin/ports', { schema: { body: REQUEST } }, async (request, reply) => {
    const body = request.body as { address: string; portingCode: string; consent?: { givenAt?: string; reference?: string } }
    // The person's consent is given here, now, unless the front end recorded it earlier (TMB-PORT-010).
    const consent = { givenAt: body.consent?.givenAt ?? new Date().toISOString(), reference: body.consent?.reference ?? `consent-${randomUUID()}` }
    const port = await vault.kit.requestPortIn({ address: body.address, portingCode: body.portingCode, consent })
    reply.code(201)
    return port
  })

  app.get<{ Querystring: { status?: string } }>('/v1/admin/ports', async (request) => {
    const { status } = request.query
    if (status !== undefined && !STATUSES.has(status)) throw new NodeError('schema-violation', { detail: 'status must be pending, objected, cancelled or completed' })
    return { ports: await vault.kit.listPorts(status as PortStatus | undefined) }
  })

  app.get<{ Params: { portId: string } }>('/v1/admin/ports/:portId', async (request) => vault.kit.getPort(request.params.portId))

  app.post<{ Params: { portId: string } }>('/v1/admin/ports/:portId/cancellation', async (request) => vault.kit.cancelPort(request.params.portId))
}
