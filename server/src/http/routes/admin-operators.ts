// POST /v1/admin/operators (registerOperator): admit or update an operator
// in this directory — public keys only. Behind the admin token (TMB-AUTH-012).
import type { FastifyInstance } from 'fastify'
import type { LocalDirectory } from '../../domain/local-directory.js'
import { operatorBody } from '../../domain/operator-record.js'
import { adminAuth } from '../admin-auth.js'
import type { AppContext } from '../context.js'

export async function adminOperatorRoutes(app: FastifyInstance, ctx: AppContext, directory: LocalDirectory): Promise<void> {
  app.addHook('onRequest', adminAuth(ctx.adminToken))

  app.post('/v1/admin/operators', async (request, reply) => {
    const { record } = await directory.operators.register(request.body)
    reply.code(201).header('location', `/v1/directory/operators/${encodeURIComponent(record.id)}`)
    return operatorBody(record)
  })
}
