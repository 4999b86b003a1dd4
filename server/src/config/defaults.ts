// Development defaults: a node that starts with no configuration at all, on
// loopback, with an embedded database. Every insecure one is announced at
// start (see announce.ts).
import type { NodeConfig } from './schema.js'

/** Defaults for every field except the derived `nodeId`. */
export const DEFAULTS: Omit<NodeConfig, 'nodeId'> = {
  host: '127.0.0.1',
  port: 8080,
  dataDir: './.timbre',
  databaseUrl: null,
  baseUrl: null,
  roles: ['routing-node', 'directory', 'vault-operator'],
  adminToken: null,
  directoryUrl: null,
  logLevel: 'info',
  limits: {
    // Discovery document limits (design notes §8): 10 MiB of document; the
    // request carries it base64url-encoded inside a JWE, hence ~15 MB.
    maxContentBytes: 10_485_760,
    maxRequestBytes: 15_000_000,
  },
  delivery: {
    windowSeconds: 259_200, // 72 h (design notes §11)
    retryBaseMs: 1_000,
    retryCapMs: 900_000, // 15 min
    pollIntervalMs: 500,
    concurrency: 16,
    batchSize: 32,
    relayTimeoutMs: 60_000, // TMB-RTY-008
    leaseMs: 120_000,
    // TMB-EVD-018: 5 s, 5 min, 30 min, 2 h, 5 h, then 10 h five times (≈ 3 days).
    webhookRetrySeconds: [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000, 36_000, 36_000, 36_000],
  },
  shutdownTimeoutMs: 10_000,
  // No prices: the node does not charge until tariffs are configured (spec 11.1).
  metering: { currency: 'EUR', tariffs: {}, terminationFees: {} },
  // Handover evidence for registered deliveries (spec 7.6, feature `handover`).
  vault: { handover: 'registered' },
  portability: {
    objectionWindowSeconds: 900, // TMB-PORT-012
    replicaStalenessSeconds: 30, // below the spec's 60 s bound (TMB-DIR-022)
    replicaPollMs: 5_000, // TMB-DIR-021: at least every 10 s
    workerPollMs: 1_000,
    purgePortedAfterSeconds: 2_592_000, // 30 days, the most TMB-ARC-012 allows
  },
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|::1|\[::1\]|0\.0\.0\.0|::|\[::\])$/i

/**
 * The node id used when none is configured: the base URL's host name, or
 * `localhost-<port>` for a loopback node, so that several dev nodes on one
 * machine get distinct ids without configuration.
 */
export function deriveNodeId(host: string, port: number, baseUrl: string | null): string {
  let name = host
  let portPart = `-${port}`
  if (baseUrl) {
    const u = new URL(baseUrl)
    name = u.hostname
    portPart = u.port ? `-${u.port}` : ''
  }
  if (LOOPBACK.test(name)) return `localhost${portPart || `-${port}`}`
  const label = `${name}${portPart}`.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
  return label.slice(0, 63) || 'timbre-node'
}
