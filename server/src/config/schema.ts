// The shape of a node's configuration, as a JSON Schema (validated with ajv
// at start) and the matching TypeScript type. Every field is documented here
// once; README-level docs are generated from these descriptions.

/** The three roles one `timbre` binary can play (design notes §8). */
export const ROLES = ['routing-node', 'directory', 'vault-operator'] as const
export type Role = (typeof ROLES)[number]

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** Sentinel `dataDir` value: PGlite in memory, nothing written to disk (tests). */
export const MEMORY_DATA_DIR = 'memory:'

/** A node's configuration after defaults, sources and validation. Deep-frozen. */
export interface NodeConfig {
  /** Interface to listen on. */
  readonly host: string
  /** TCP port; 0 picks a free one (tests). */
  readonly port: number
  /** Directory for the embedded database and generated secrets, or `memory:`. */
  readonly dataDir: string
  /** PostgreSQL connection string; when set, PGlite is not used. */
  readonly databaseUrl: string | null
  /** This node's operator id: the `aud` of request proofs and `issuer` of evidence. */
  readonly nodeId: string
  /** Public base URL announced in discovery; null = derived from the listening address. */
  readonly baseUrl: string | null
  /** Roles switched on. */
  readonly roles: readonly Role[]
  /** Bearer token of the operator admin API; null = generated into the data dir. */
  readonly adminToken: string | null
  /** Base URL of the directory to consult; null = this node's own directory role. */
  readonly directoryUrl: string | null
  readonly logLevel: LogLevel
  readonly limits: {
    /** Largest document (plaintext) accepted, announced in discovery. */
    readonly maxContentBytes: number
    /** Largest HTTP request body accepted (413 `body-too-large` above it). */
    readonly maxRequestBytes: number
  }
  readonly delivery: {
    /** How long a routing node keeps retrying a relay before `RelayFailure` (design notes §11). */
    readonly windowSeconds: number
    /** First retry delay; attempt n waits min(base·2^(n−1), cap) with full jitter. */
    readonly retryBaseMs: number
    /** Longest retry delay. */
    readonly retryCapMs: number
    /** How often an idle worker looks for due work. */
    readonly pollIntervalMs: number
    /** Relays in flight per process. */
    readonly concurrency: number
    /** Outbox rows claimed per query (routing node worker). */
    readonly batchSize: number
    /** Timeout of one relay or webhook attempt (TMB-RTY-008: at most 60 s plus transfer time). */
    readonly relayTimeoutMs: number
    /** How long a claimed outbox row stays leased to its process; must exceed relayTimeoutMs. */
    readonly leaseMs: number
    /** Webhook retry delays in seconds, one per retry; the last one ends the attempts (TMB-EVD-018). */
    readonly webhookRetrySeconds: readonly number[]
  }
  /** How long a graceful shutdown may take before the process exits anyway. */
  readonly shutdownTimeoutMs: number
  /** Metering (spec chapter 11): stamp prices, currency, termination fees. */
  readonly metering: MeteringConfig
  /** Vault-operator role. */
  readonly vault: {
    /**
     * Handover evidence at the first open of a document (spec 7.6, feature
     * `handover`): `registered` deliveries only (TMB-EVD-015), `all`
     * deliveries (TMB-EVD-016), or `off` (the feature is not announced).
     */
    readonly handover: 'registered' | 'all' | 'off'
  }
  /** Portability and directory replicas (spec 8.3, 8.4, chapter 9). */
  readonly portability: {
    /** Directory role: the network's objection window in seconds, 0 (tests) to 86400; default 900 (TMB-PORT-012). */
    readonly objectionWindowSeconds: number
    /** Routing node on a remote directory: replica staleness above which lookups go live (TMB-DIR-022). */
    readonly replicaStalenessSeconds: number
    /** Routing node on a remote directory: how often the replica reads the change feed (TMB-DIR-021: at most 10 s). */
    readonly replicaPollMs: number
    /** Directory and vault roles: how often the portability worker looks for due work. */
    readonly workerPollMs: number
    /**
     * Vault role, donor: seconds after the new operator accepted the archive
     * before this node deletes the ported documents (TMB-ARC-012: at most 30
     * days); null keeps them, for an operator the law obliges to keep them.
     */
    readonly purgePortedAfterSeconds: number | null
  }
}

/** Stamp prices and termination fees, in minor units of `currency`. */
export interface MeteringConfig {
  /** ISO 4217 code of every balance, price and fee of this node. */
  readonly currency: string
  /** Price per stamp class sold (TMB-MTR-001); empty = the node does not charge (discovery `tariffs: []`). */
  readonly tariffs: { readonly standard?: number; readonly registered?: number }
  /** Termination fee per delivery and class, per peer operator id, `*` for any other peer (TMB-MTR-019). */
  readonly terminationFees: Readonly<Record<string, { readonly standard?: number; readonly registered?: number }>>
}

const url = { type: 'string', pattern: '^https?://[^\\s/]+(/[^\\s]*)?$' } as const
const positiveInt = { type: 'integer', minimum: 1 } as const

/** JSON Schema (2020-12) of {@link NodeConfig}. Unknown members are errors. */
export const CONFIG_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://timbre.dev/schemas/server/config.json',
  $defs: {
    classPrices: {
      type: 'object',
      additionalProperties: false,
      properties: { standard: { type: 'integer', minimum: 0 }, registered: { type: 'integer', minimum: 0 } },
    },
  },
  type: 'object',
  additionalProperties: false,
  required: ['host', 'port', 'dataDir', 'databaseUrl', 'nodeId', 'baseUrl', 'roles', 'adminToken',
    'directoryUrl', 'logLevel', 'limits', 'delivery', 'shutdownTimeoutMs'],
  properties: {
    host: { type: 'string', minLength: 1, pattern: '^[A-Za-z0-9.:\\[\\]-]+$' },
    port: { type: 'integer', minimum: 0, maximum: 65535 },
    dataDir: { type: 'string', minLength: 1 },
    databaseUrl: { anyOf: [{ type: 'null' }, { type: 'string', pattern: '^postgres(ql)?://' }] },
    // Operator id (design notes §1); the regex is the SDK's OPERATOR_ID_PATTERN.
    nodeId: { type: 'string', pattern: '^[a-z0-9](?:[a-z0-9.-]{0,61}[a-z0-9])?$' },
    baseUrl: { anyOf: [{ type: 'null' }, url] },
    roles: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...ROLES] } },
    // 16+ characters: a short token invites guessing.
    adminToken: { anyOf: [{ type: 'null' }, { type: 'string', minLength: 16, pattern: '^[\\x21-\\x7e]+$' }] },
    directoryUrl: { anyOf: [{ type: 'null' }, url] },
    logLevel: { enum: [...LOG_LEVELS] },
    limits: {
      type: 'object',
      additionalProperties: false,
      required: ['maxContentBytes', 'maxRequestBytes'],
      properties: { maxContentBytes: positiveInt, maxRequestBytes: positiveInt },
    },
    delivery: {
      type: 'object',
      additionalProperties: false,
      required: ['windowSeconds', 'retryBaseMs', 'retryCapMs', 'pollIntervalMs', 'concurrency'],
      properties: {
        windowSeconds: positiveInt,
        retryBaseMs: positiveInt,
        retryCapMs: positiveInt,
        pollIntervalMs: positiveInt,
        concurrency: { type: 'integer', minimum: 1, maximum: 1024 },
        batchSize: { type: 'integer', minimum: 1, maximum: 1000 },
        relayTimeoutMs: positiveInt,
        leaseMs: positiveInt,
        webhookRetrySeconds: { type: 'array', minItems: 1, items: { type: 'number', exclusiveMinimum: 0 } },
      },
    },
    shutdownTimeoutMs: positiveInt,
    metering: {
      type: 'object',
      additionalProperties: false,
      required: ['currency', 'tariffs', 'terminationFees'],
      properties: {
        currency: { type: 'string', pattern: '^[A-Z]{3}$' },
        tariffs: { $ref: '#/$defs/classPrices' },
        terminationFees: { type: 'object', propertyNames: { pattern: '^(\\*|[a-z0-9](?:[a-z0-9.-]{0,61}[a-z0-9])?)$' }, additionalProperties: { $ref: '#/$defs/classPrices' } },
      },
    },
    vault: {
      type: 'object',
      additionalProperties: false,
      properties: { handover: { enum: ['registered', 'all', 'off'] } },
    },
    portability: {
      type: 'object',
      additionalProperties: false,
      properties: {
        objectionWindowSeconds: { type: 'integer', minimum: 0, maximum: 86_400 },
        replicaStalenessSeconds: { type: 'integer', minimum: 1 },
        replicaPollMs: { type: 'integer', minimum: 10, maximum: 10_000 },
        workerPollMs: { type: 'integer', minimum: 10 },
        purgePortedAfterSeconds: { type: ['integer', 'null'], minimum: 0, maximum: 2_592_000 },
      },
    },
  },
} as const
