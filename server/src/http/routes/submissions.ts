// The sender API of the routing node (spec 5, 7, 9.5): submissions,
// delivery status, evidence lists, re-routes, and the evidence push of
// vault nodes (7.6). Thin: the rules live in domain/submission.ts and
// domain/deliveries.ts. These routes read the body as raw bytes so the
// checks run in the spec's order (5.2: size, media type, proof, idempotency
// key, then JSON) and the proof is verified over the exact bytes.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { DeliveryQueries } from '../../domain/deliveries.js'
import type { RoutingServices } from '../../domain/routing.js'
import { SubmissionService, type Answer, type IncomingRequest } from '../../domain/submission.js'
import type { AppContext } from '../context.js'

function incoming(request: FastifyRequest): IncomingRequest {
  const body = request.body
  return {
    method: request.method,
    url: request.url,
    headers: request.headers,
    rawBody: Buffer.isBuffer(body) ? body : undefined,
    requestId: request.id,
  }
}

function send(reply: FastifyReply, answer: Answer): FastifyReply {
  for (const [k, v] of Object.entries(answer.headers)) reply.header(k, v)
  return reply.code(answer.status).type(answer.contentType).send(answer.body)
}

export async function routingRoutes(app: FastifyInstance, ctx: AppContext, routing: RoutingServices): Promise<void> {
  const submissions = new SubmissionService(routing)
  const deliveries = new DeliveryQueries(routing, submissions)
  // Raw bytes for every media type: the handler checks the type itself (step 2, after the size of step 1).
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: ctx.config.limits.maxRequestBytes }, (_req, body, done) => done(null, body))
  // TMB-AUTH: a 401 names the scheme.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (reply.statusCode === 401) reply.header('www-authenticate', 'Timbre')
    return payload
  })

  app.post('/v1/submissions', async (request, reply) => send(reply, await submissions.handle(incoming(request))))

  app.post<{ Params: { messageId: string } }>('/v1/deliveries/:messageId/reroute', async (request, reply) =>
    send(reply, await submissions.handle(incoming(request), request.params.messageId)))

  app.get<{ Params: { messageId: string } }>('/v1/deliveries/:messageId', async (request, reply) => {
    const sender = await deliveries.authenticateRead(incoming(request))
    return reply.send(await deliveries.status(sender, request.params.messageId))
  })

  app.get<{ Params: { messageId: string } }>('/v1/deliveries/:messageId/evidence', async (request, reply) => {
    const sender = await deliveries.authenticateRead(incoming(request))
    return reply.send(await deliveries.evidence(sender, request.params.messageId))
  })

  app.post('/v1/evidence', async (request, reply) => {
    await deliveries.pushEvidence(incoming(request))
    return reply.code(202).send()
  })

}
