// GET /v1/admin/vault-addresses/{address}/archive (exportVaultArchive,
// TMB-ARC-013): the person's self-export, at any time, free, in one request,
// streamed as it is produced (TMB-ARC-011), including after a port-out.
import { assertVaultAddress } from '@timbre/sdk'
import type { FastifyInstance } from 'fastify'
import type { VaultRole } from '../../domain/vault-role.js'
import { NodeError } from '../../errors.js'
import { adminAuth } from '../admin-auth.js'
import type { AppContext } from '../context.js'

export async function adminVaultArchiveRoutes(app: FastifyInstance, ctx: AppContext, vault: VaultRole): Promise<void> {
  app.addHook('onRequest', adminAuth(ctx.adminToken))
  app.get<{ Params: { address: string } }>('/v1/admin/vault-addresses/:address/archive', async (request, reply) => {
    const address = assertVaultAddress(request.params.address)
    if (!(await vault.storage.accountRow(address))) throw new NodeError('not-found', { detail: 'the address is not hosted here' })
    const documents = await vault.storage.count(address)
    const archive = await vault.kit.exportArchive(address)
    reply
      .type('application/x-tar')
      .header('content-disposition', `attachment; filename="timbre-${address}.tar"`)
      .header('x-timbre-documents', String(documents))
      .header('cache-control', 'no-store')
    return reply.send(archive)
  })
}
