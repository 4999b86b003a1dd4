// Structured logs (pino). Bodies, keys and tokens are never logged: request
// logs carry method, URL, status and request id only, and the redact list
// catches the usual suspects if a future log call passes them by mistake.
import { pino, type Logger } from 'pino'
import type { LogLevel } from './config/schema.js'

export type { Logger }

const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.authorization',
  '*.adminToken',
  '*.token',
  '*.privateJwk',
  '*.private_jwk',
  '*.d',
  '*.content',
  '*.body',
  'config.adminToken',
  'config.databaseUrl',
]

/** The node's root logger (JSON on stdout). */
export function createLogger(level: LogLevel, options: { name?: string } = {}): Logger {
  return pino({ name: options.name ?? 'timbre', level, redact: { paths: REDACT, censor: '[redacted]' } })
}
