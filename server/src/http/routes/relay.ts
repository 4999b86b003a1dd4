// POST /v1/relay (relayDocument): VaultKit's own Fastify plugin. It is not
// wrapped with fastify-plugin, so its raw-body parser (the proof signs the
// exact bytes) and its problem+json error handler stay inside its own
// encapsulation context; the app's JSON parser serves every other route.
import type { FastifyInstance } from 'fastify'
import type { VaultRole } from '../../domain/vault-role.js'
import type { AppContext } from '../context.js'

export async function relayRoutes(app: FastifyInstance, ctx: AppContext, vault: VaultRole): Promise<void> {
  await app.register(vault.kit.fastifyPlugin({ path: '/v1/relay', bodyLimit: ctx.config.limits.maxRequestBytes }))
}
