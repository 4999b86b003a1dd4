// Builds the node's configuration: defaults < config file < environment <
// command-line flags < programmatic overrides, then derives what was left
// open, validates against CONFIG_SCHEMA and deep-freezes the result.
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js'
import { DEFAULTS, deriveNodeId } from './defaults.js'
import { deepFreeze } from './deep-freeze.js'
import { CONFIG_SCHEMA, type NodeConfig } from './schema.js'
import { CONFIG_FILE_ENV, CONFIG_FILE_FLAG, ConfigError, fromEnv, fromFile, fromFlags, type Layer } from './sources.js'

/** Deep partial of NodeConfig, for overrides in code and tests. */
export type ConfigOverrides = {
  -readonly [K in keyof NodeConfig]?: NodeConfig[K] extends readonly unknown[] ? NodeConfig[K]
    : NodeConfig[K] extends object | null ? Partial<NonNullable<NodeConfig[K]>> | (null extends NodeConfig[K] ? null : never)
    : NodeConfig[K]
}

export interface LoadConfigOptions {
  /** Environment variables; default `process.env`. Pass `{}` for none. */
  env?: Readonly<Record<string, string | undefined>>
  /** Parsed command-line flags, e.g. `{ port: '9000', config: 'node.json' }`. */
  flags?: Readonly<Record<string, string | boolean | undefined>>
  /** Values that win over every other source (tests, embedding). */
  overrides?: ConfigOverrides
}

const validate = new Ajv2020({ allErrors: true, strict: true }).compile(CONFIG_SCHEMA)

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function merge(base: Record<string, unknown>, top: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(top)) {
    if (v === undefined) continue
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? merge(out[k] as Record<string, unknown>, v) : v
  }
  return out
}

function originOf(path: string, origins: Map<string, string>): string {
  for (let p = path; p !== ''; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
    const o = origins.get(p)
    if (o) return o
  }
  return 'default'
}

function describe(err: ErrorObject, origins: Map<string, string>): string {
  let path = err.instancePath.split('/').filter(Boolean).join('.')
  if (err.keyword === 'additionalProperties') {
    path = path ? `${path}.${String(err.params.additionalProperty)}` : String(err.params.additionalProperty)
    return `${path} (${originOf(path, origins)}): unknown setting`
  }
  if (err.keyword === 'enum') {
    return `${path} (${originOf(path, origins)}): must be one of ${(err.params.allowedValues as unknown[]).join(', ')}`
  }
  return `${path || '(root)'} (${originOf(path, origins)}): ${err.message ?? 'is invalid'}`
}

/**
 * Load, validate and freeze the configuration.
 *
 * @throws ConfigError listing every problem, each naming the source of the value.
 */
export function loadConfig(options: LoadConfigOptions = {}): NodeConfig {
  const env = options.env ?? process.env
  const flags = options.flags ?? {}
  const layers: Layer[] = []
  const filePath = flags[CONFIG_FILE_FLAG] ?? env[CONFIG_FILE_ENV]
  if (typeof filePath === 'string' && filePath !== '') layers.push(fromFile(filePath))
  layers.push(fromEnv(env), fromFlags(flags))
  if (options.overrides) {
    const origins = new Map<string, string>()
    for (const k of Object.keys(options.overrides)) origins.set(k, 'overrides')
    layers.push({ values: options.overrides as Record<string, unknown>, origins })
  }

  let values: Record<string, unknown> = structuredClone(DEFAULTS) as unknown as Record<string, unknown>
  const origins = new Map<string, string>()
  for (const layer of layers) {
    values = merge(values, layer.values)
    for (const [k, v] of layer.origins) origins.set(k, v)
  }

  // Derive the node id only from values that are themselves well-formed.
  if (values.nodeId === undefined) {
    const { host, port, baseUrl } = values
    if (typeof host === 'string' && typeof port === 'number' && (baseUrl === null || (typeof baseUrl === 'string' && URL.canParse(baseUrl)))) {
      values.nodeId = deriveNodeId(host, port, baseUrl as string | null)
      origins.set('nodeId', 'derived')
    }
  }

  const problems: string[] = []
  if (!validate(values)) {
    for (const err of validate.errors ?? []) {
      // A missing nodeId is only the echo of the bad host/port/baseUrl it derives from.
      if (err.keyword === 'required' && err.params.missingProperty === 'nodeId' && !origins.has('nodeId')) continue
      problems.push(describe(err, origins))
    }
  } else {
    const c = values as unknown as NodeConfig
    if (c.delivery.retryCapMs < c.delivery.retryBaseMs) {
      problems.push(`delivery.retryCapMs (${originOf('delivery.retryCapMs', origins)}): must be >= delivery.retryBaseMs`)
    }
    if (c.delivery.leaseMs <= c.delivery.relayTimeoutMs) {
      problems.push(`delivery.leaseMs (${originOf('delivery.leaseMs', origins)}): must be > delivery.relayTimeoutMs`)
    }
    if (c.limits.maxRequestBytes < c.limits.maxContentBytes) {
      problems.push(`limits.maxRequestBytes (${originOf('limits.maxRequestBytes', origins)}): must be >= limits.maxContentBytes`)
    }
  }
  if (problems.length > 0) throw new ConfigError([...new Set(problems)])
  return deepFreeze(values as unknown as NodeConfig)
}
