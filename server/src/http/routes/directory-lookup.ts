// GET /v1/directory/addresses/{address} (TMB-DIR-008, -009): the signed line
// valid now, or at `?at=`; no authentication.
import { assertVaultAddress } from '@timbre/sdk'
import type { FastifyInstance } from 'fastify'
import type { LocalDirectory } from '../../domain/local-directory.js'
import { NodeError } from '../../errors.js'

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/

/** An RFC 3339 query instant, or undefined when absent. */
export function parseInstant(value: unknown, name: string): Date | undefined {
  if (value === undefined) return undefined
  const ms = typeof value === 'string' && RFC3339.test(value) ? Date.parse(value) : Number.NaN
  if (Number.isNaN(ms)) {
    throw new NodeError('schema-violation', { detail: `${name} must be an RFC 3339 instant`, extra: { errors: [{ path: name, message: 'must be an RFC 3339 date-time' }] } })
  }
  return new Date(ms)
}

export async function directoryLookupRoutes(app: FastifyInstance, directory: LocalDirectory): Promise<void> {
  app.get<{ Params: { address: string }; Querystring: { at?: string } }>('/v1/directory/addresses/:address', async (request, reply) => {
    const address = assertVaultAddress(request.params.address)
    const at = parseInstant(request.query.at, 'at')
    const resolved = await directory.lookup(address, at)
    if (!resolved) throw new NodeError('recipient-unknown', { detail: at ? `no line of ${address} was valid at ${at.toISOString()}` : `no line serves ${address}` })
    reply.header('cache-control', 'no-store')
    return { line: resolved.jws }
  })
}
