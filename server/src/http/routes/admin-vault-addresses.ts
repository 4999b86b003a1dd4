// POST /v1/admin/vault-addresses (openVaultAccount): open an account hosted
// by this node's vault role under a fresh random address (TMB-ADDR), then
// register its line in the directory — locally, or by a signed PUT to the
// remote directory. Behind the admin token (TMB-AUTH-012).
import { assertSchema, formatVaultAddress } from '@timbre/sdk'
import type { FastifyInstance } from 'fastify'
import type { HostedAddressRegistrar } from '../../domain/hosted-registrar.js'
import type { VaultRole } from '../../domain/vault-role.js'
import { adminAuth } from '../admin-auth.js'
import type { AppContext } from '../context.js'

export async function adminVaultAddressRoutes(app: FastifyInstance, ctx: AppContext, vault: VaultRole, registrar: HostedAddressRegistrar): Promise<void> {
  app.addHook('onRequest', adminAuth(ctx.adminToken))

  app.post('/v1/admin/vault-addresses', async (request, reply) => {
    // The body is optional (spec: "may be empty").
    const body = assertSchema<{ reference?: string }>('vault-account-request.json', request.body ?? {})
    const address = await vault.kit.openAccount()
    if (body.reference !== undefined) await vault.storage.setReference(address, body.reference)
    const resolved = await registrar.registerHosted(address)
    const account = await vault.storage.accountRow(address)
    reply.code(201)
    return {
      address,
      displayAddress: formatVaultAddress(address),
      operator: ctx.config.nodeId,
      ...(account?.reference ? { reference: account.reference } : {}),
      status: 'active',
      createdAt: (account?.createdAt ?? new Date()).toISOString(),
      line: resolved.jws,
    }
  })
}
