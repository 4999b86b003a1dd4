// Metering routes (spec chapter 11): the sender's balance, ledger and
// monthly statements (sender proof), settlement statements and
// reconciliation between operators (operator proof), and the admin top-ups
// and adjustments (admin token). Thin: the rules live in domain/metering.ts
// and domain/settlement.ts.
import { assertSchema, TimbreError } from '@timbre/sdk'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Metering } from '../../domain/metering.js'
import type { Clock, RoutingServices } from '../../domain/routing.js'
import { Settlements } from '../../domain/settlement.js'
import { SubmissionService } from '../../domain/submission.js'
import { NodeError } from '../../errors.js'
import { ReplayRepository } from '../../store/replay-repository.js'
import { adminAuth } from '../admin-auth.js'
import type { AppContext } from '../context.js'
import { verifyOperatorProof } from '../operator-proof.js'

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/
const OPERATOR_ID = /^[a-z0-9](?:[a-z0-9.-]{0,61}[a-z0-9])?$/

function instant(name: string, value: unknown): Date | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || !RFC3339.test(value) || Number.isNaN(Date.parse(value))) {
    throw new NodeError('schema-violation', { detail: `${name} must be an RFC 3339 date-time`, extra: { errors: [{ path: name, message: 'must be an RFC 3339 date-time' }] } })
  }
  return new Date(value)
}

const sdkError = (err: unknown): unknown => (err instanceof TimbreError ? NodeError.from(err) : err)

export async function meteringRoutes(app: FastifyInstance, ctx: AppContext, routing: RoutingServices | null, now: Clock = () => new Date()): Promise<void> {
  const clock = routing ? () => routing.now() : now
  const replay = new ReplayRepository(ctx.db)
  const roles = ctx.config.roles
  app.addHook('onSend', async (_request, reply, payload) => {
    if (reply.statusCode === 401) reply.header('www-authenticate', 'Timbre')
    return payload
  })

  if (routing) {
    const metering = new Metering({ config: ctx.config, db: ctx.db, keys: ctx.keys, now: clock })
    const submissions = new SubmissionService(routing)
    // A sender's proof over a GET; its jti is used up at once.
    const sender = async (request: FastifyRequest): Promise<string> => {
      const auth = await submissions.authenticate({ method: request.method, url: request.url, headers: request.headers, rawBody: undefined, requestId: request.id })
      if (!(await routing.replay.claim(auth.jti, auth.exp))) throw new NodeError('request-replayed')
      return auth.sender.id
    }

    app.get('/v1/stamps/balance', async (request) => metering.balance(await sender(request)))

    app.get<{ Querystring: { from?: string; to?: string } }>('/v1/stamps/ledger', async (request) => {
      const id = await sender(request)
      const from = instant('from', request.query.from)
      const to = instant('to', request.query.to)
      return { entries: await metering.ledger(id, from, to) }
    })

    app.get<{ Params: { period: string } }>('/v1/stamps/statements/:period', async (request, reply) => {
      const id = await sender(request)
      const accept = String(request.headers.accept ?? '')
      if (/text\/csv/i.test(accept) && !/application\/json/i.test(accept)) {
        const csv = await metering.statementCsv(id, request.params.period)
        return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="timbre-${request.params.period}.csv"`).send(csv)
      }
      return { statement: await metering.statement(id, request.params.period) }
    })

    // TMB-MTR-009: top-ups, adjustments and credit limits through the admin API only.
    await app.register(async (admin) => {
      admin.addHook('onRequest', adminAuth(ctx.adminToken))
      admin.post<{ Params: { id: string } }>('/v1/admin/senders/:id/topups', async (request, reply) => {
        const body = assertSchema<{ amount: number; reference: string }>('admin-topup.json', request.body)
        return reply.code(201).send(await metering.topup(request.params.id, body.amount, body.reference))
      })
      admin.post<{ Params: { id: string } }>('/v1/admin/senders/:id/adjustments', async (request, reply) => {
        const body = assertSchema<{ amount: number; reference: string; creditLimit?: number }>('admin-adjustment.json', request.body)
        return reply.code(201).send(await metering.adjust(request.params.id, body.amount, body.reference, body.creditLimit))
      })
    })
  }

  if (roles.includes('routing-node') || roles.includes('vault-operator')) {
    const settlements = new Settlements({ config: ctx.config, db: ctx.db, keys: ctx.keys, directory: ctx.directory, now: clock })
    const check = (role: string) => ({ aud: ctx.config.nodeId, role, directory: ctx.directory, replay })

    app.get<{ Params: { peer: string; period: string } }>('/v1/settlements/:peer/:period', async (request, reply) => {
      const { peer, period } = request.params
      if (!OPERATOR_ID.test(peer)) throw new NodeError('not-found', { detail: 'no such peer operator' })
      const side = await settlements.sideTowards(peer)
      const claims = await verifyOperatorProof(request, reply, check(Settlements.peerRole(side)))
      if (claims.iss !== peer) throw new NodeError('node-untrusted', { detail: 'a settlement statement is served to the peer only' })
      return { statement: await settlements.statement(peer, period, side) }
    })

    app.post('/v1/settlements/reconciliation', async (request, reply) => {
      let body: { statement: string }
      try {
        body = assertSchema<{ statement: string }>('statement-response.json', request.body)
      } catch (err) {
        throw sdkError(err)
      }
      // The caller's statement says which side we are; the proof must come from the other.
      const me = ctx.config.nodeId
      const peek = (() => { try { return JSON.parse(Buffer.from(body.statement.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown> } catch { return {} } })()
      const side = peek.routingOperator === me ? 'routing' : peek.vaultOperator === me ? 'vault' : undefined
      if (!side) throw new NodeError('schema-violation', { detail: 'the statement is not a settlement with this node' })
      const claims = await verifyOperatorProof(request, reply, check(Settlements.peerRole(side)))
      return settlements.reconcile(claims.iss, body.statement)
    })
  }
}
