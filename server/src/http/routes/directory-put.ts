// PUT /v1/directory/addresses/{address} (TMB-DIR-010): the hosting operator
// registers or refreshes its line, with a request proof whose `iss` is a
// trust-listed vault operator and equals the body's `operator`.
import { assertSchema, assertVaultAddress } from '@timbre/sdk'
import type { FastifyInstance } from 'fastify'
import type { LocalDirectory } from '../../domain/local-directory.js'
import { NodeError } from '../../errors.js'
import type { ReplayRepository } from '../../store/replay-repository.js'
import type { AppContext } from '../context.js'
import { verifyOperatorProof } from '../operator-proof.js'

export async function directoryPutRoutes(app: FastifyInstance, ctx: AppContext, directory: LocalDirectory, replay: ReplayRepository): Promise<void> {
  app.put<{ Params: { address: string } }>('/v1/directory/addresses/:address', async (request, reply) => {
    // Authentication first (spec 3.7 check order), then the body.
    const claims = await verifyOperatorProof(request, reply, { aud: ctx.config.nodeId, role: 'vault-operator', directory, replay })
    const address = assertVaultAddress(request.params.address)
    const body = assertSchema<{ operator: string }>('directory-line-request.json', request.body)
    if (body.operator !== claims.iss) throw new NodeError('sender-mismatch', { detail: `the proof is from ${claims.iss}, the body names ${body.operator}` })
    const { created, resolved } = await directory.service.register(address, body.operator)
    reply.code(created ? 201 : 200)
    return { line: resolved.jws }
  })
}
