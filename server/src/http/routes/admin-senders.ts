// Operator admin API for senders (design notes §8): register, list, read,
// enable/disable, webhook URL, key replacement. Bodies are validated against
// the spec's schemas admin-sender.json and admin-sender-patch.json.
import { assertSchema } from '@timbre/sdk'
import type { FastifyInstance } from 'fastify'
import { NodeError } from '../../errors.js'
import type { NewSender, SenderChange } from '../../domain/senders.js'
import type { AppContext } from '../context.js'
import { adminAuth } from '../admin-auth.js'

const MAX_PAGE = 1000

function parseLimit(value: unknown): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || !/^\d{1,4}$/.test(value) || Number(value) < 1 || Number(value) > MAX_PAGE) {
    throw new NodeError('schema-violation', { detail: `limit must be an integer from 1 to ${MAX_PAGE}`, extra: { errors: [{ path: 'limit', message: 'must be 1..1000' }] } })
  }
  return Number(value)
}

export async function adminSenderRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  // onRequest: refuse before the body is even read.
  app.addHook('onRequest', adminAuth(ctx.adminToken))

  app.post('/v1/admin/senders', async (request, reply) => {
    const body = assertSchema<NewSender>('admin-sender.json', request.body)
    const sender = await ctx.senders.register(body)
    reply.code(201).header('location', `/v1/admin/senders/${encodeURIComponent(sender.id)}`)
    return sender
  })

  app.get<{ Querystring: { after?: string; limit?: string } }>('/v1/admin/senders', async (request) => {
    const { after } = request.query
    const limit = parseLimit(request.query.limit)
    return { senders: await ctx.senders.list({ ...(after !== undefined && { after }), ...(limit !== undefined && { limit }) }) }
  })

  app.get<{ Params: { id: string } }>('/v1/admin/senders/:id', async (request) => {
    return ctx.senders.get(request.params.id)
  })

  app.patch<{ Params: { id: string } }>('/v1/admin/senders/:id', async (request) => {
    const change = assertSchema<SenderChange>('admin-sender-patch.json', request.body)
    return ctx.senders.update(request.params.id, change)
  })
}
