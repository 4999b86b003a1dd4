// The node's error vocabulary. Protocol codes, statuses and titles come from
// the SDK's ERROR_CATALOG (design notes §9, the nouns live once); this file
// adds the few operator-admin codes and the error class the node throws.
import { ERROR_CATALOG, isErrorCode, TimbreError, type ErrorCode, type ErrorCodeInfo } from '@timbre/sdk'

export { ERROR_CATALOG, type ErrorCode }

/**
 * Codes only this implementation answers with, beyond the spec's table.
 * Empty on purpose: every code, the admin API's included, is listed in
 * spec/12-errors.md so clients can rely on it.
 */
export const ADMIN_ERROR_CATALOG = {} as const satisfies Record<string, ErrorCodeInfo>

export type AdminErrorCode = keyof typeof ADMIN_ERROR_CATALOG

/** Any code this node answers with. */
export type NodeErrorCode = ErrorCode | AdminErrorCode

/** Status, retryability and title of a code. */
export function errorInfo(code: NodeErrorCode): ErrorCodeInfo {
  return isErrorCode(code) ? ERROR_CATALOG[code] : ADMIN_ERROR_CATALOG[code]
}

/** True when `value` is a code this node may answer with. */
export function isNodeErrorCode(value: unknown): value is NodeErrorCode {
  return isErrorCode(value) || (typeof value === 'string' && Object.hasOwn(ADMIN_ERROR_CATALOG, value))
}

export interface NodeErrorOptions {
  /** Explanation of this occurrence (the problem `detail`). Never secrets. */
  detail?: string
  /** Extra problem members, e.g. `errors` or `operator`. */
  extra?: Record<string, unknown>
  /** Seconds for `Retry-After` when the code is retryable. */
  retryAfter?: number
  cause?: unknown
}

/**
 * A failure with a Timbre problem code. Domain and store code throw it; the
 * HTTP layer turns it into problem+json, the CLI into a message and exit code.
 */
export class NodeError extends Error {
  readonly code: NodeErrorCode
  readonly status: number
  readonly retryable: boolean
  readonly detail: string | undefined
  readonly extra: Readonly<Record<string, unknown>>
  readonly retryAfter: number | undefined

  constructor(code: NodeErrorCode, options: NodeErrorOptions = {}) {
    const info = errorInfo(code)
    super(options.detail ? `${code}: ${options.detail}` : `${code}: ${info.title}`, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'NodeError'
    this.code = code
    this.status = info.status
    this.retryable = info.retryable
    this.detail = options.detail
    this.extra = options.extra ?? {}
    this.retryAfter = options.retryAfter
  }

  /** Adopt an SDK error (same code table) so one path renders both. */
  static from(err: TimbreError): NodeError {
    return new NodeError(err.code, { detail: err.detail, extra: err.extra, retryAfter: err.retryAfter, cause: err })
  }
}
