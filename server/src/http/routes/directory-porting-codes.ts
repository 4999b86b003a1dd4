// POST /v1/directory/porting-codes (registerPortingCode, TMB-PORT-003..005):
// the donor registers a code's digest; only the operator serving the address.
import { assertSchema, assertVaultAddress } from '@timbre/sdk'
import type { FastifyInstance } from 'fastify'
import type { LocalDirectory } from '../../domain/local-directory.js'
import type { PortingService } from '../../domain/porting.js'
import type { ReplayRepository } from '../../store/replay-repository.js'
import type { AppContext } from '../context.js'
import { verifyOperatorProof } from '../operator-proof.js'

export async function directoryPortingCodeRoutes(app: FastifyInstance, ctx: AppContext, directory: LocalDirectory, replay: ReplayRepository, porting: PortingService): Promise<void> {
  app.post('/v1/directory/porting-codes', async (request, reply) => {
    const claims = await verifyOperatorProof(request, reply, { aud: ctx.config.nodeId, role: 'vault-operator', directory, replay })
    const body = assertSchema<{ address: string; codeDigest: string; expiresAt: string }>('porting-code.json', request.body)
    const address = assertVaultAddress(body.address)
    reply.code(201)
    return porting.registerCode(claims.iss, { ...body, address })
  })
}
