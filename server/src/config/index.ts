// The node's configuration: one documented, schema-validated, frozen object.
//
// Sources, lowest precedence first:
//   1. defaults (defaults.ts) — a development node on 127.0.0.1:8080 with
//      PGlite in ./.timbre and all three roles;
//   2. a JSON file named by `--config` or TIMBRE_CONFIG, shaped like NodeConfig;
//   3. environment variables (SETTINGS in sources.ts lists every one);
//   4. command-line flags (same list, kebab-case);
//   5. overrides passed in code (tests, embedding).
// The result is validated against CONFIG_SCHEMA (schema.ts) and deep-frozen.
export { CONFIG_SCHEMA, LOG_LEVELS, MEMORY_DATA_DIR, ROLES, type LogLevel, type NodeConfig, type Role } from './schema.js'
export { DEFAULTS, deriveNodeId } from './defaults.js'
export { CONFIG_FILE_ENV, CONFIG_FILE_FLAG, ConfigError, SETTINGS, type Setting } from './sources.js'
export { loadConfig, type ConfigOverrides, type LoadConfigOptions } from './load-config.js'
export { resolveAdminToken, type AdminTokenSource } from './admin-token.js'
export { insecureDefaults } from './announce.js'
