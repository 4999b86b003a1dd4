/**
 * The protocol's error codes, once. The server, the vault kit and the
 * conformance suite all take status and retryability from this table, and a
 * test checks that every code is documented in spec/12-errors.md.
 * A retired code is never reused (TMB-ERR).
 */

/** Every error code a Timbre endpoint or the SDK can report. */
export type ErrorCode =
  | 'malformed-json'
  | 'unsupported-media-type'
  | 'body-too-large'
  | 'schema-violation'
  | 'invalid-vault-address'
  | 'auth-required'
  | 'auth-invalid'
  | 'request-replayed'
  | 'sender-unknown'
  | 'sender-disabled'
  | 'sender-mismatch'
  | 'node-untrusted'
  | 'admin-unauthorized'
  | 'idempotency-key-missing'
  | 'idempotency-key-reused'
  | 'idempotency-in-progress'
  | 'message-id-conflict'
  | 'envelope-invalid'
  | 'content-digest-mismatch'
  | 'content-undecryptable'
  | 'content-too-large'
  | 'stamp-invalid'
  | 'recipient-unknown'
  | 'recipient-moved'
  | 'not-found'
  | 'method-not-allowed'
  | 'directory-conflict'
  | 'rate-limited'
  | 'unavailable'
  | 'internal-error'
  | 'stamp-balance-exhausted'
  | 'porting-code-invalid'
  | 'porting-code-expired'
  | 'porting-code-used'
  | 'port-already-pending'
  | 'port-not-cancellable'
  | 'port-cancel-forbidden'
  | 'archive-invalid'
  | 'port-objection-forbidden'
  | 'port-objection-closed'
  | 'sender-exists'
  // SDK-side codes: raised locally, never sent on the wire.
  | 'evidence-invalid'
  | 'statement-invalid'
  | 'network-error'
  | 'timeout'
  | 'unexpected-response'

/** Status, retryability and title of one error code. */
export interface ErrorCodeInfo {
  /** HTTP status an endpoint answers with (0 for SDK-only codes). */
  readonly status: number
  /** Whether the same request may succeed if sent again later. */
  readonly retryable: boolean
  /** Short human-readable summary, used as the problem `title`. */
  readonly title: string
  /** True when the code is raised only by the SDK and never appears on the wire. */
  readonly local?: boolean
}

/**
 * The catalogue of every error code.
 *
 * @example
 * ```ts
 * import { ERROR_CATALOG } from '@timbre/sdk'
 * ERROR_CATALOG['idempotency-key-reused'].status // 422
 * ```
 */
export const ERROR_CATALOG: Readonly<Record<ErrorCode, ErrorCodeInfo>> = Object.freeze({
  'malformed-json': { status: 400, retryable: false, title: 'The request body is not valid JSON' },
  'unsupported-media-type': { status: 415, retryable: false, title: 'Unsupported content type' },
  'body-too-large': { status: 413, retryable: false, title: 'The request body is too large' },
  'schema-violation': { status: 400, retryable: false, title: 'The request does not match its schema' },
  'invalid-vault-address': { status: 400, retryable: false, title: 'The vault address is not valid' },
  'auth-required': { status: 401, retryable: false, title: 'Authentication is required' },
  'auth-invalid': { status: 401, retryable: false, title: 'The request proof is not valid' },
  'request-replayed': { status: 401, retryable: false, title: 'The request proof was already used' },
  'sender-unknown': { status: 403, retryable: false, title: 'The sender is not known to this node' },
  'sender-disabled': { status: 403, retryable: false, title: 'The sender is disabled' },
  'sender-mismatch': { status: 403, retryable: false, title: 'The envelope sender is not the authenticated sender' },
  'node-untrusted': { status: 403, retryable: false, title: 'The calling node is not in the trust list' },
  'admin-unauthorized': { status: 401, retryable: false, title: 'Operator authentication failed' },
  'idempotency-key-missing': { status: 400, retryable: false, title: 'The Idempotency-Key header is missing' },
  'idempotency-key-reused': { status: 422, retryable: false, title: 'The idempotency key was used with another body' },
  'idempotency-in-progress': { status: 409, retryable: true, title: 'A request with this idempotency key is in progress' },
  'message-id-conflict': { status: 409, retryable: false, title: 'The message id was already used for another envelope' },
  'envelope-invalid': { status: 400, retryable: false, title: 'The envelope is not valid' },
  'content-digest-mismatch': { status: 422, retryable: false, title: 'The content does not match its digest' },
  'content-undecryptable': { status: 422, retryable: false, title: 'The content cannot be decrypted' },
  'content-too-large': { status: 413, retryable: false, title: 'The document is larger than the announced limit' },
  'stamp-invalid': { status: 400, retryable: false, title: 'The stamp is not valid' },
  'recipient-unknown': { status: 404, retryable: false, title: 'The vault address is not known' },
  'recipient-moved': { status: 409, retryable: false, title: 'The vault address moved to another operator' },
  'not-found': { status: 404, retryable: false, title: 'Not found' },
  'method-not-allowed': { status: 405, retryable: false, title: 'Method not allowed' },
  'directory-conflict': { status: 409, retryable: false, title: 'The directory change conflicts with the current line' },
  'rate-limited': { status: 429, retryable: true, title: 'Too many requests' },
  unavailable: { status: 503, retryable: true, title: 'The service is temporarily unavailable' },
  'internal-error': { status: 500, retryable: true, title: 'Internal error' },
  'stamp-balance-exhausted': { status: 402, retryable: false, title: 'The stamp balance and credit are exhausted' },
  'porting-code-invalid': { status: 422, retryable: false, title: 'The porting code is not valid for this address' },
  'porting-code-expired': { status: 422, retryable: false, title: 'The porting code has expired' },
  'porting-code-used': { status: 409, retryable: false, title: 'The porting code was already used' },
  'port-already-pending': { status: 409, retryable: false, title: 'A port is already pending for this address' },
  'port-not-cancellable': { status: 409, retryable: false, title: 'The port can no longer be cancelled' },
  'port-cancel-forbidden': { status: 403, retryable: false, title: 'Only the new operator may cancel a port' },
  'archive-invalid': { status: 422, retryable: false, title: 'The archive failed verification' },
  'port-objection-forbidden': { status: 403, retryable: false, title: 'Only the donor operator may object to a port' },
  'port-objection-closed': { status: 409, retryable: false, title: 'The objection window of this port has closed' },
  'sender-exists': { status: 409, retryable: false, title: 'A sender with this id is already registered' },
  'evidence-invalid': { status: 0, retryable: false, title: 'The evidence failed verification', local: true },
  'statement-invalid': { status: 0, retryable: false, title: 'The statement failed verification', local: true },
  'network-error': { status: 0, retryable: true, title: 'The network request failed', local: true },
  timeout: { status: 0, retryable: true, title: 'The request timed out', local: true },
  'unexpected-response': { status: 0, retryable: false, title: 'The server answered outside the protocol', local: true },
} satisfies Record<ErrorCode, ErrorCodeInfo>)

/** Base URI of problem `type` members (RFC 9457). */
export const PROBLEM_TYPE_BASE = 'https://timbre.dev/problems/'

/** Options of a {@link TimbreError}. */
export interface TimbreErrorOptions {
  detail?: string
  status?: number
  retryable?: boolean
  requestId?: string
  /** Seconds to wait before a retry, from a `Retry-After` header. */
  retryAfter?: number
  /** Extra problem members (for example `operator` with `recipient-moved`). */
  extra?: Record<string, unknown>
  cause?: unknown
}

/**
 * The one error class of the SDK. Every failure carries a stable `code`,
 * the HTTP `status`, whether it is `retryable`, and the server's `requestId`.
 *
 * @example
 * ```ts
 * try { await client.deliver(doc) } catch (err) {
 *   if (err instanceof TimbreError && err.code === 'invalid-vault-address') askAgain()
 * }
 * ```
 */
export class TimbreError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly retryable: boolean
  readonly requestId: string | undefined
  readonly detail: string | undefined
  readonly retryAfter: number | undefined
  readonly extra: Record<string, unknown>

  constructor(code: ErrorCode, options: TimbreErrorOptions = {}) {
    const info = ERROR_CATALOG[code]
    super(options.detail ? `${code}: ${options.detail}` : `${code}: ${info?.title ?? code}`, { cause: options.cause })
    this.name = 'TimbreError'
    this.code = code
    this.status = options.status ?? info?.status ?? 500
    this.retryable = options.retryable ?? info?.retryable ?? false
    this.requestId = options.requestId
    this.detail = options.detail
    this.retryAfter = options.retryAfter
    this.extra = options.extra ?? {}
  }

  /** The RFC 9457 body for this error. */
  toProblem(requestId?: string): ProblemDetails {
    return problemFor(this.code, {
      detail: this.detail,
      requestId: requestId ?? this.requestId,
      status: this.status,
      extra: this.extra,
    })
  }
}

/** An RFC 9457 problem details body as Timbre sends it. */
export interface ProblemDetails {
  type: string
  title: string
  status: number
  detail?: string
  code: ErrorCode
  retryable: boolean
  requestId?: string
  instance?: string
  errors?: Array<{ path: string; message: string }>
  [extension: string]: unknown
}

/**
 * Build the RFC 9457 body of an error code.
 *
 * @example
 * ```ts
 * const body = problemFor('not-found', { requestId: 'req-1' })
 * reply.code(body.status).type('application/problem+json').send(body)
 * ```
 */
export function problemFor(
  code: ErrorCode,
  options: { detail?: string | undefined; requestId?: string | undefined; status?: number; extra?: Record<string, unknown> } = {},
): ProblemDetails {
  const info = ERROR_CATALOG[code]
  const body: ProblemDetails = {
    ...(options.extra ?? {}),
    type: PROBLEM_TYPE_BASE + code,
    title: info.title,
    status: options.status ?? info.status,
    code,
    retryable: info.retryable,
  }
  if (options.detail) body.detail = options.detail
  if (options.requestId) body.requestId = options.requestId
  return body
}

/**
 * True when `value` names a known error code.
 *
 * @example
 * ```ts
 * if (isErrorCode(problem.code)) console.log(ERROR_CATALOG[problem.code].retryable)
 * ```
 */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CATALOG, value)
}
