// POST /v1/admin/vault-addresses (openVaultAccount): open an account hosted
// by this node's vault role under a fresh random address (TMB-ADDR), then
// register its line in the directory — locally, or by a signed PUT to the
// remote directory. Behind the admin token (TMB-AUTH-012).
import { assertSchema, assertVaultAddress, formatVaultAddress, UUID_PATTERN } from '@timbre/sdk'
import type { FastifyInstance } from 'fastify'
import type { HostedAddressRegistrar } from '../../domain/hosted-registrar.js'
import type { VaultRole } from '../../domain/vault-role.js'
import { NodeError } from '../../errors.js'
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

  // openVaultDocument: the person opens or downloads a document, through the
  // operator's own front end. The first open of a registered delivery issues
  // the Handover evidence and queues its push to the stamp's issuer (7.6,
  // TMB-EVD-015); later opens issue nothing.
  app.get<{ Params: { address: string; messageId: string } }>('/v1/admin/vault-addresses/:address/documents/:messageId', async (request, reply) => {
    const address = assertVaultAddress(request.params.address)
    const { messageId } = request.params
    const opened = UUID_PATTERN.test(messageId) ? await vault.kit.openDocument(address, messageId) : undefined
    if (!opened) throw new NodeError('not-found', { detail: 'no such document in this vault' })
    reply
      .type(opened.record.metadata.content.mediaType)
      .header('cache-control', 'no-store')
      .header('x-timbre-sender', opened.record.sender)
    if (opened.handover) reply.header('x-timbre-handover', opened.handover)
    return reply.send(Buffer.from(opened.bytes.buffer, opened.bytes.byteOffset, opened.bytes.byteLength))
  })
}
