// Liveness (/health, never touches the database) and readiness (/ready, the
// database answers a trivial query; a routing node's directory replica is
// fresh or the directory reachable). Bodies follow spec/schemas/health.json.
import { sql } from 'kysely'
import type { FastifyInstance } from 'fastify'
import { DirectoryReplica } from '../../domain/directory-replica.js'
import type { AppContext } from '../context.js'

const READY_TIMEOUT_MS = 2_000

async function databaseAnswers(ctx: AppContext): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS) })
  try {
    return await Promise.race([sql`select 1`.execute(ctx.db).then(() => true, () => false), timeout])
  } finally {
    clearTimeout(timer)
  }
}

export async function healthRoutes(app: FastifyInstance, ctx: AppContext, version: string): Promise<void> {
  app.get('/health', async (_request, reply) => {
    reply.header('cache-control', 'no-store')
    return { status: 'ok', version }
  })

  app.get('/ready', async (_request, reply) => {
    reply.header('cache-control', 'no-store')
    const database = !ctx.draining() && (await databaseAnswers(ctx))
    // TMB-DIR-024: a routing node on a remote directory reports its replica.
    const replica = ctx.directory instanceof DirectoryReplica ? await ctx.directory.readiness() : undefined
    const ok = database && (replica?.ok ?? true)
    if (!ok) reply.code(503).header('retry-after', '5')
    return {
      status: ok ? 'ready' : 'unavailable',
      checks: { database: database ? 'ok' : 'failing', ...(replica ? { directory: replica.ok ? 'ok' : 'failing' } : {}) },
      ...(replica ? { replica: replica.replica } : {}),
    }
  })
}
