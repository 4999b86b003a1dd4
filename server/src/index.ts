// @timbre/server: the reference node as a library (the `timbre` binary is a
// thin shell over these).
export { startNode, type RunningNode, type StartNodeOptions } from './node.js'
export { buildApp, type BuildAppOptions } from './http/app.js'
export { loadOpenApiDocument, type OpenApiDocument } from './http/openapi.js'
export { problemBody, PROBLEM_CONTENT_TYPE } from './http/problem.js'
export {
  loadConfig,
  ConfigError,
  CONFIG_SCHEMA,
  DEFAULTS,
  MEMORY_DATA_DIR,
  ROLES,
  SETTINGS,
  resolveAdminToken,
  type ConfigOverrides,
  type LoadConfigOptions,
  type NodeConfig,
  type Role,
} from './config/index.js'
export { openStore, type OpenStoreOptions, type Store, type StoreKind } from './store/db.js'
export { migrateToLatest } from './store/migrate.js'
export type { Database } from './store/schema.js'
export { NodeKeyring, loadOrCreateNodeKeys } from './domain/node-keys.js'
export { SenderRegistry, type Sender, type NewSender, type SenderChange } from './domain/senders.js'
export { NodeError, ERROR_CATALOG, errorInfo, type ErrorCode, type NodeErrorCode } from './errors.js'
export { createLogger, type Logger } from './logger.js'
export { runCli } from './cli/main.js'
export { NODE_VERSION } from './version.js'
