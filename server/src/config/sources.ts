// Where configuration comes from: environment variables, command-line flags
// and an optional JSON file. Each source yields a partial config plus, for
// every field it set, a label naming the source, so a validation error can
// say "PORT (environment): must be <= 65535" instead of "/port".
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'

export type Kind = 'string' | 'int' | 'list' | 'nullable'

/** One setting that environment and flags can set. */
export interface Setting {
  /** Dotted path into NodeConfig. */
  readonly path: string
  readonly env: string
  readonly flag: string
  readonly kind: Kind
  readonly help: string
}

/** Every setting reachable from the environment or the command line. */
export const SETTINGS: readonly Setting[] = [
  { path: 'host', env: 'HOST', flag: 'host', kind: 'string', help: 'interface to listen on (127.0.0.1)' },
  { path: 'port', env: 'PORT', flag: 'port', kind: 'int', help: 'TCP port, 0 = any free port (8080)' },
  { path: 'dataDir', env: 'TIMBRE_DATA_DIR', flag: 'data-dir', kind: 'string', help: 'embedded database and generated secrets (./.timbre; "memory:" = in memory)' },
  { path: 'databaseUrl', env: 'DATABASE_URL', flag: 'database-url', kind: 'nullable', help: 'postgres://… to use PostgreSQL instead of the embedded PGlite' },
  { path: 'nodeId', env: 'TIMBRE_NODE_ID', flag: 'node-id', kind: 'string', help: 'operator id of this node (derived: localhost-<port> or the base URL host)' },
  { path: 'baseUrl', env: 'TIMBRE_BASE_URL', flag: 'base-url', kind: 'nullable', help: 'public base URL announced in discovery (derived from host and port)' },
  { path: 'roles', env: 'TIMBRE_ROLES', flag: 'roles', kind: 'list', help: 'comma list of routing-node,directory,vault-operator (all three)' },
  { path: 'adminToken', env: 'TIMBRE_ADMIN_TOKEN', flag: 'admin-token', kind: 'nullable', help: 'bearer token of the admin API (generated into <data-dir>/admin-token)' },
  { path: 'directoryUrl', env: 'TIMBRE_DIRECTORY_URL', flag: 'directory-url', kind: 'nullable', help: 'base URL of a remote directory (this node)' },
  { path: 'logLevel', env: 'LOG_LEVEL', flag: 'log-level', kind: 'string', help: 'fatal|error|warn|info|debug|trace|silent (info)' },
  { path: 'limits.maxContentBytes', env: 'TIMBRE_MAX_CONTENT_BYTES', flag: 'max-content-bytes', kind: 'int', help: 'largest document accepted (10485760)' },
  { path: 'limits.maxRequestBytes', env: 'TIMBRE_MAX_REQUEST_BYTES', flag: 'max-request-bytes', kind: 'int', help: 'largest request body accepted (15000000)' },
  { path: 'delivery.windowSeconds', env: 'TIMBRE_DELIVERY_WINDOW_SECONDS', flag: 'delivery-window-seconds', kind: 'int', help: 'relay retry window before failure evidence (259200 = 72 h)' },
  { path: 'delivery.retryBaseMs', env: 'TIMBRE_RETRY_BASE_MS', flag: 'retry-base-ms', kind: 'int', help: 'first retry delay (1000)' },
  { path: 'delivery.retryCapMs', env: 'TIMBRE_RETRY_CAP_MS', flag: 'retry-cap-ms', kind: 'int', help: 'longest retry delay (900000)' },
  { path: 'delivery.pollIntervalMs', env: 'TIMBRE_WORKER_POLL_MS', flag: 'worker-poll-ms', kind: 'int', help: 'idle worker poll interval (500)' },
  { path: 'delivery.concurrency', env: 'TIMBRE_WORKER_CONCURRENCY', flag: 'worker-concurrency', kind: 'int', help: 'relays in flight per process (16)' },
  { path: 'delivery.batchSize', env: 'TIMBRE_WORKER_BATCH_SIZE', flag: 'worker-batch-size', kind: 'int', help: 'outbox rows claimed per query (32)' },
  { path: 'delivery.relayTimeoutMs', env: 'TIMBRE_RELAY_TIMEOUT_MS', flag: 'relay-timeout-ms', kind: 'int', help: 'timeout of one relay or webhook attempt (60000)' },
  { path: 'delivery.leaseMs', env: 'TIMBRE_WORKER_LEASE_MS', flag: 'worker-lease-ms', kind: 'int', help: 'lease of a claimed outbox row, > relay timeout (120000)' },
  { path: 'portability.objectionWindowSeconds', env: 'TIMBRE_OBJECTION_WINDOW_SECONDS', flag: 'objection-window-seconds', kind: 'int', help: 'directory: objection window of ports, 0 to 86400 (900)' },
  { path: 'portability.purgePortedAfterSeconds', env: 'TIMBRE_PURGE_PORTED_AFTER_SECONDS', flag: 'purge-ported-after-seconds', kind: 'int', help: 'vault: delete a ported vault\'s documents this long after the new operator accepted the archive, at most 2592000 (2592000 = 30 days; null in a config file keeps them)' },
  { path: 'portability.replicaStalenessSeconds', env: 'TIMBRE_REPLICA_STALENESS_SECONDS', flag: 'replica-staleness-seconds', kind: 'int', help: 'routing node: directory replica staleness bound before live lookups (30)' },
  { path: 'metering.currency', env: 'TIMBRE_STAMP_CURRENCY', flag: 'stamp-currency', kind: 'string', help: 'ISO 4217 currency of stamp prices and balances (EUR)' },
  { path: 'metering.tariffs.standard', env: 'TIMBRE_STAMP_PRICE_STANDARD', flag: 'stamp-price-standard', kind: 'int', help: 'price of a standard stamp in minor units (unset: not charged)' },
  { path: 'metering.tariffs.registered', env: 'TIMBRE_STAMP_PRICE_REGISTERED', flag: 'stamp-price-registered', kind: 'int', help: 'price of a registered stamp in minor units (unset: not sold when others are priced)' },
  { path: 'vault.handover', env: 'TIMBRE_VAULT_HANDOVER', flag: 'vault-handover', kind: 'string', help: 'vault: Handover evidence at the first open, registered|all|off (registered)' },
  { path: 'shutdownTimeoutMs', env: 'TIMBRE_SHUTDOWN_TIMEOUT_MS', flag: 'shutdown-timeout-ms', kind: 'int', help: 'graceful shutdown limit (10000)' },
]

/** Environment variable / flag naming the JSON config file. */
export const CONFIG_FILE_ENV = 'TIMBRE_CONFIG'
export const CONFIG_FILE_FLAG = 'config'

/** A partial configuration and, per dotted path, where each value came from. */
export interface Layer {
  readonly values: Record<string, unknown>
  readonly origins: Map<string, string>
}

export class ConfigError extends Error {
  readonly problems: readonly string[]
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

// Strings are converted only when they plainly are the wanted type; anything
// else passes through unchanged so the schema reports it with its source.
function convert(kind: Kind, raw: string): unknown {
  const text = raw.trim()
  switch (kind) {
    case 'int':
      return /^-?\d+$/.test(text) ? Number(text) : text
    case 'list':
      return text === '' ? [] : text.split(',').map((s) => s.trim()).filter((s) => s !== '')
    case 'nullable':
      return text === '' ? null : text
    default:
      return text
  }
}

export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.')
  let node = target
  for (const part of parts.slice(0, -1)) {
    const next = node[part]
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {}
    node = node[part] as Record<string, unknown>
  }
  node[parts[parts.length - 1]!] = value
}

/** Settings from environment variables (unset and empty-for-non-nullable are ignored). */
export function fromEnv(env: Readonly<Record<string, string | undefined>>): Layer {
  const values: Record<string, unknown> = {}
  const origins = new Map<string, string>()
  for (const s of SETTINGS) {
    const raw = env[s.env]
    if (raw === undefined || (raw.trim() === '' && s.kind !== 'nullable')) continue
    setPath(values, s.path, convert(s.kind, raw))
    origins.set(s.path, `${s.env} (environment)`)
  }
  return { values, origins }
}

/** Settings from already-parsed command-line flags (`{ port: '9000' }`). */
export function fromFlags(flags: Readonly<Record<string, string | boolean | undefined>>): Layer {
  const values: Record<string, unknown> = {}
  const origins = new Map<string, string>()
  for (const s of SETTINGS) {
    const raw = flags[s.flag]
    if (raw === undefined) continue
    setPath(values, s.path, typeof raw === 'string' ? convert(s.kind, raw) : raw)
    origins.set(s.path, `--${s.flag}`)
  }
  return { values, origins }
}

function collectOrigins(value: unknown, prefix: string, label: string, origins: Map<string, string>): void {
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && prefix !== 'roles') {
    for (const [k, v] of Object.entries(value)) collectOrigins(v, prefix ? `${prefix}.${k}` : k, label, origins)
  } else if (prefix) {
    origins.set(prefix, label)
  }
}

/** Settings from a JSON file shaped like (part of) NodeConfig. */
export function fromFile(path: string): Layer {
  const full = resolve(path)
  let values: unknown
  try {
    values = JSON.parse(readFileSync(full, 'utf8'))
  } catch (err) {
    throw new ConfigError([`config file ${full}: ${(err as Error).message}`])
  }
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new ConfigError([`config file ${full}: must hold a JSON object`])
  }
  const origins = new Map<string, string>()
  collectOrigins(values, '', `config file ${full}`, origins)
  return { values: values as Record<string, unknown>, origins }
}
