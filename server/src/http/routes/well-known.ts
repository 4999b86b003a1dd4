// Discovery (TMB-TRUST-010..013, design notes §8) and the node's JWKS
// (TMB-TRUST-004, -006, -009).
import { CONTENT_ENCRYPTION_ALG, KEY_AGREEMENT_ALG, SIGNATURE_ALG } from '@timbre/sdk'
import type { FastifyInstance } from 'fastify'
import type { AppContext } from '../context.js'
import { tariffsOf } from '../../domain/metering.js'

// At most 300 s (TMB-TRUST-009) so verifiers see a new key within minutes.
const CACHE = 'public, max-age=300'

export function discoveryDocument(ctx: AppContext): Record<string, unknown> {
  const { config } = ctx
  const base = ctx.baseUrl()
  const roles = new Set(config.roles)
  const endpoints: Record<string, string> = {}
  // Every endpoint of exactly the roles played (TMB-TRUST-011).
  if (roles.has('routing-node')) {
    endpoints.submissions = `${base}/v1/submissions`
    endpoints.evidence = `${base}/v1/evidence`
    // Directory pushes of the change feed (TMB-DIR-018/-019).
    endpoints.directoryNotifications = `${base}/v1/notifications/directory`
  }
  if (roles.has('vault-operator')) {
    endpoints.relay = `${base}/v1/relay`
    endpoints.archiveImports = `${base}/v1/archive-imports`
  }
  if (roles.has('directory')) {
    endpoints.directory = `${base}/v1/directory`
    endpoints.trustList = `${base}/v1/trust-list`
  }
  endpoints.jwks = `${base}/.well-known/jwks.json`
  return {
    protocol: 'timbre',
    versions: ['1'],
    nodeId: config.nodeId,
    roles: [...config.roles],
    endpoints,
    // TMB-VER-005: exactly what is implemented. Portability (chapter 9) by
    // every role of this node; metering (chapter 11) when the routing node
    // charges (tariffs configured); `handover` (7.6) when the vault role issues
    // Handover evidence; `directory-push` when the directory pushes change
    // notifications or the routing node accepts them (DIR-018);
    // `directory-history` when the directory answers lookups `at` an instant (DIR-009).
    profiles: ['core', 'portability', ...(roles.has('routing-node') && tariffsOf(config).length > 0 ? ['metering'] : [])],
    features: [
      ...(roles.has('vault-operator') && config.vault.handover !== 'off' ? ['handover'] : []),
      ...(roles.has('directory') || roles.has('routing-node') ? ['directory-push'] : []),
      ...(roles.has('directory') ? ['directory-history'] : []),
    ],
    limits: { maxContentBytes: config.limits.maxContentBytes, maxRequestBytes: config.limits.maxRequestBytes },
    algorithms: { signature: [SIGNATURE_ALG], keyAgreement: [KEY_AGREEMENT_ALG], contentEncryption: [CONTENT_ENCRYPTION_ALG] },
    retry: { deliveryWindowSeconds: config.delivery.windowSeconds },
    tariffs: roles.has('routing-node') ? tariffsOf(config) : [],
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
