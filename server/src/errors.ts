// The node's error vocabulary: every code, status and title comes from the
// SDK's ERROR_CATALOG (the spec's table, the nouns live once); this file adds
// only the error class the node throws.
import { ERROR_CATALOG, isErrorCode, TimbreError, type ErrorCode, type ErrorCodeInfo } from '@timbre/sdk'

export { ERROR_CATALOG, type ErrorCode }

/** Any code this node answers with: exactly the spec's codes. */
export type NodeErrorCode = ErrorCode

/** Status, retryability and title of a code. */
export function errorInfo(code: NodeErrorCode): ErrorCodeInfo {
  return ERROR_CATALOG[code]
}

/** True when `value` is a code this node may answer with. */
export const isNodeErrorCode: (value: unknown) => value is NodeErrorCode = isErrorCode

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
