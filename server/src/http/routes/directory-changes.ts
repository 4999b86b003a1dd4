// GET /v1/directory/changes?after=&limit= (TMB-DIR-014..017): the ordered,
// gap-free change feed, public.
import type { FastifyInstance } from 'fastify'
import type { LocalDirectory } from '../../domain/local-directory.js'
import { NodeError } from '../../errors.js'

const CURSOR = /^(?:0|[1-9][0-9]{0,18})$/
const DEFAULT_LIMIT = 100
const MAX_LIMIT = 1000

const bad = (name: string, message: string) => new NodeError('schema-violation', { detail: `${name} ${message}`, extra: { errors: [{ path: name, message }] } })

export async function directoryChangesRoutes(app: FastifyInstance, directory: LocalDirectory): Promise<void> {
  app.get<{ Querystring: { after?: string; limit?: string } }>('/v1/directory/changes', async (request, reply) => {
    const { after: afterText, limit: limitText } = request.query
    if (afterText !== undefined && (typeof afterText !== 'string' || !CURSOR.test(afterText))) throw bad('after', 'must be a decimal cursor')
    if (limitText !== undefined && (typeof limitText !== 'string' || !/^[1-9][0-9]{0,3}$/.test(limitText) || Number(limitText) > MAX_LIMIT)) {
      throw bad('limit', `must be an integer from 1 to ${MAX_LIMIT}`)
    }
    const after = BigInt(afterText ?? '0')
    const limit = limitText === undefined ? DEFAULT_LIMIT : Number(limitText)
    const page = await directory.service.changes(after, limit)
    const changes = page.changes.map((c) => ({
      cursor: c.cursor.toString(),
      address: c.address,
      version: c.version,
      operator: c.operatorId,
      validFrom: c.validFrom.toISOString(),
      validTo: c.validTo === null ? null : c.validTo.toISOString(),
      changedAt: c.changedAt.toISOString(),
      line: c.line,
    }))
    reply.header('cache-control', 'no-store')
    return { changes, nextCursor: changes.at(-1)?.cursor ?? null, hasMore: page.hasMore }
  })
}
