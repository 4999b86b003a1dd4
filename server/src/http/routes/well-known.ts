// Discovery (design notes §8) and the node's JWKS (design notes §2, TMB-TRUST).
import { CONTENT_ENCRYPTION_ALG, KEY_AGREEMENT_ALG, SIGNATURE_ALG } from '@timbre/sdk'
import type { FastifyInstance } from 'fastify'
import type { AppContext } from '../context.js'

// Clients may cache both documents briefly; keys rotate with overlap.
const CACHE = 'public, max-age=300'

export function discoveryDocument(ctx: AppContext): Record<string, unknown> {
  const { config } = ctx
  const base = ctx.baseUrl()
  const roles = new Set(config.roles)
  const endpoints: Record<string, string> = {}
  if (roles.has('routing-node')) endpoints.submissions = `${base}/v1/submissions`
  if (roles.has('vault-operator')) endpoints.relay = `${base}/v1/relay`
  if (roles.has('directory')) {
    endpoints.directory = `${base}/v1/directory`
    endpoints.trustList = `${base}/v1/trust-list`
  } else if (config.directoryUrl) {
    // A node without the role points at the directory it relies on.
    endpoints.directory = `${config.directoryUrl.replace(/\/+$/, '')}/v1/directory`
  }
  endpoints.jwks = `${base}/.well-known/jwks.json`
  return {
    protocol: 'timbre',
    versions: ['1'],
    nodeId: config.nodeId,
    roles: [...config.roles],
    endpoints,
    profiles: ['core'],
    limits: { maxContentBytes: config.limits.maxContentBytes, maxRequestBytes: config.limits.maxRequestBytes },
    algorithms: { signature: [SIGNATURE_ALG], keyAgreement: [KEY_AGREEMENT_ALG], contentEncryption: [CONTENT_ENCRYPTION_ALG] },
    retry: { deliveryWindowSeconds: config.delivery.windowSeconds },
    tariffs: [],
  }
}

export async function wellKnownRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/.well-known/timbre', async (_request, reply) => {
    reply.header('cache-control', CACHE)
    return discoveryDocument(ctx)
  })

  // Public members only: the keyring builds these from the stored public JWKs.
  app.get('/.well-known/jwks.json', async (_request, reply) => {
    reply.header('cache-control', CACHE).type('application/jwk-set+json')
    return ctx.keys.jwks()
  })
}
