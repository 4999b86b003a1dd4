// The development defaults that make a node insecure or non-durable. The node
// logs each one at `warn` when it starts, so nobody runs them by accident.
import type { AdminToken } from './admin-token.js'
import { MEMORY_DATA_DIR, type NodeConfig } from './schema.js'

const LOOPBACK_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i

/** One sentence per insecure or non-durable setting in effect. */
export function insecureDefaults(config: NodeConfig, admin: AdminToken): string[] {
  const out: string[] = []
  if (config.databaseUrl === null) {
    out.push(config.dataDir === MEMORY_DATA_DIR
      ? 'database is PGlite IN MEMORY: everything is lost when the process exits'
      : `database is embedded PGlite in ${config.dataDir}/pgdata, which NEVER fsyncs: an OS crash or power loss can lose recent commits (deliveries, evidence). Set DATABASE_URL=postgres://… for a durable node`)
  }
  if (admin.source === 'generated' || admin.source === 'file') {
    out.push(`admin token was generated and is stored in plaintext at ${admin.path}; set TIMBRE_ADMIN_TOKEN in production`)
  } else if (admin.source === 'ephemeral') {
    out.push('admin token was generated for this process only (in-memory data dir); set TIMBRE_ADMIN_TOKEN')
  }
  out.push('node private keys (signing and decryption) are stored UNENCRYPTED in the database')
  if (config.baseUrl === null) {
    out.push(`TIMBRE_BASE_URL is not set: the node announces http://${config.host}:<port> (plain HTTP)`)
  } else if (config.baseUrl.startsWith('http://') && !LOOPBACK_HOST.test(new URL(config.baseUrl).hostname)) {
    out.push(`base URL ${config.baseUrl} is plain HTTP on a non-loopback host: put TLS in front of the node`)
  }
  return out
}
