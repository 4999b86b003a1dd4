// Request proofs of operators on node endpoints (TMB-AUTH-002, checks of
// spec 3.7 in order): the proof must verify with a signature key of `iss`
// as the directory knows it, `iss` must be an active operator with the role
// the endpoint serves (else 403 node-untrusted), and the jti is single use
// in the shared replay table (else 401 request-replayed).
import { TimbreError, verifyRequestProof, type RequestProofClaims } from '@timbre/sdk'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { DirectoryView } from '../domain/directory-view.js'
import { signingKeyOf } from '../domain/operator-record.js'
import { NodeError } from '../errors.js'
import type { ReplayRepository } from '../store/replay-repository.js'

export interface OperatorProofCheck {
  readonly aud: string
  readonly role: string
  readonly directory: DirectoryView
  readonly replay: ReplayRepository
}

export async function verifyOperatorProof(request: FastifyRequest, reply: FastifyReply, check: OperatorProofCheck): Promise<RequestProofClaims> {
  try {
    const claims = await verifyRequestProof(request.headers.authorization, {
      aud: check.aud,
      method: request.method,
      path: request.url,
      body: request.rawBody,
      resolveKey: async (iss, kid) => {
        const op = await check.directory.operator(iss)
        if (!op || op.status !== 'active' || !op.roles.includes(check.role)) {
          throw new TimbreError('node-untrusted', { detail: `${iss} is not an active ${check.role} of this directory` })
        }
        return signingKeyOf(op, kid) ?? (() => { throw new TimbreError('node-untrusted', { detail: `key ${kid} is not listed for ${iss}` }) })()
      },
    })
    if (!(await check.replay.claim(claims.jti, claims.exp))) throw new NodeError('request-replayed', { detail: 'this proof was already used' })
    return claims
  } catch (err) {
    const status = err instanceof NodeError || err instanceof TimbreError ? err.status : 0
    if (status === 401) reply.header('www-authenticate', 'Timbre')
    throw err
  }
}
