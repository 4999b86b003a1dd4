// POST /v1/admin/vault-addresses/{address}/porting-code (issuePortingCode):
// the donor issues a porting code at the person's request (TMB-PORT-001),
// registers its digest at the directory (TMB-PORT-003) and returns the code
// this once; it is stored nowhere (TMB-PORT-005). The operator's front end
// authenticates the person and calls this on their behalf.
import { assertVaultAddress } from '@timbre/sdk'
import { NodeError } from '../../errors.js'
import type { FastifyInstance } from 'fastify'
import type { VaultRole } from '../../domain/vault-role.js'
import { adminAuth } from '../admin-auth.js'
import type { AppContext } from '../context.js'

export async function adminPortingCodeRoutes(app: FastifyInstance, ctx: AppContext, vault: VaultRole): Promise<void> {
  app.addHook('onRequest', adminAuth(ctx.adminToken))
  app.post<{ Params: { address: string } }>('/v1/admin/vault-addresses/:address/porting-code', async (request, reply) => {
    const address = assertVaultAddress(request.params.address)
    const body = (request.body ?? {}) as { ttlDays?: unknown }
    if (typeof body !== 'object' || (body.ttlDays !== undefined && !(Number.isInteger(body.ttlDays) && (body.ttlDays as number) >= 1 && (body.ttlDays as number) <= 30))) {
      throw new NodeError('schema-violation', { detail: 'ttlDays must be an integer from 1 to 30' })
    }
    const issued = await vault.kit.issuePortingCode(address, body.ttlDays ? { ttlDays: body.ttlDays as number } : {})
    reply.code(201).header('cache-control', 'no-store')
    return issued
  })
}
