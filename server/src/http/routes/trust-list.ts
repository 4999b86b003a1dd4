// GET /v1/trust-list (TMB-TRUST-020): the signed list of admitted operators, public.
import type { FastifyInstance } from 'fastify'
import type { TrustListPublisher } from '../../domain/trust-list.js'

export async function trustListRoutes(app: FastifyInstance, publisher: TrustListPublisher): Promise<void> {
  app.get('/v1/trust-list', async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=60')
    return { trustList: await publisher.sign() }
  })
}
