// The admin API's bearer token. Production sets TIMBRE_ADMIN_TOKEN; a dev
// node generates one into <dataDir>/admin-token (0600) so that restarts and
// the CLI find the same token.
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { MEMORY_DATA_DIR, type NodeConfig } from './schema.js'

export type AdminTokenSource = 'configured' | 'file' | 'generated' | 'ephemeral'

export interface AdminToken {
  readonly token: string
  readonly source: AdminTokenSource
  /** File holding the token when it came from or went to the data dir. */
  readonly path: string | null
}

const newToken = (): string => randomBytes(32).toString('base64url')

/** The configured token, or the data dir's one, created on first use. */
export function resolveAdminToken(config: Pick<NodeConfig, 'adminToken' | 'dataDir'>): AdminToken {
  if (config.adminToken) return { token: config.adminToken, source: 'configured', path: null }
  if (config.dataDir === MEMORY_DATA_DIR) return { token: newToken(), source: 'ephemeral', path: null }
  mkdirSync(config.dataDir, { recursive: true })
  const path = join(config.dataDir, 'admin-token')
  try {
    // `wx`: two processes starting together must not overwrite each other's token.
    writeFileSync(path, newToken() + '\n', { flag: 'wx', mode: 0o600 })
    return { token: readFileSync(path, 'utf8').trim(), source: 'generated', path }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
  const token = readFileSync(path, 'utf8').trim()
  if (token.length < 16) throw new Error(`${path}: admin token shorter than 16 characters`)
  return { token, source: 'file', path }
}
