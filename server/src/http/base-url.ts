// The URL the node announces (discovery, directory lines): the configured
// base URL, or one built from the address the server actually listens on,
// so a node on port 0 (tests) still announces where it can be reached.
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type { NodeConfig } from '../config/schema.js'

function hostForUrl(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1'
  if (host === '::' || host === '[::]') return '[::1]'
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
}

/** Base URL without a trailing slash. */
export function publicBaseUrl(app: FastifyInstance, config: NodeConfig): string {
  if (config.baseUrl) return config.baseUrl.replace(/\/+$/, '')
  const address = app.server.address() as AddressInfo | string | null
  const port = address && typeof address === 'object' ? address.port : config.port
  return `http://${hostForUrl(config.host)}:${port}`
}
