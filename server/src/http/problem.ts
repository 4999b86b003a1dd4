// RFC 9457 problem details, the one error shape of every Timbre endpoint
// (design notes §9): `type` https://timbre.dev/problems/<code>, `code`,
// `retryable`, `requestId`; `Retry-After` when retryable and known.
import { PROBLEM_TYPE_BASE, TimbreError } from '@timbre/sdk'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { errorInfo, NodeError } from '../errors.js'

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

/** Core members an extension must not overwrite. */
const CORE = new Set(['type', 'title', 'status', 'detail', 'code', 'retryable', 'requestId'])

/** The problem body of an error for a given request id. */
export function problemBody(err: NodeError, requestId: string): Record<string, unknown> {
  const info = errorInfo(err.code)
  const body: Record<string, unknown> = {
    type: PROBLEM_TYPE_BASE + err.code,
    title: info.title,
    status: err.status,
  }
  if (err.detail) body.detail = err.detail
  body.code = err.code
  body.retryable = err.retryable
  body.requestId = requestId
  for (const [k, v] of Object.entries(err.extra)) if (!CORE.has(k)) body[k] = v
  if (err.retryable && err.retryAfter !== undefined) body.retryAfter = err.retryAfter
  return body
}

/** Answer the request with an error as problem+json. */
export function sendProblem(request: FastifyRequest, reply: FastifyReply, err: NodeError): FastifyReply {
  if (err.retryable && err.retryAfter !== undefined) reply.header('retry-after', String(Math.max(0, Math.ceil(err.retryAfter))))
  return reply.code(err.status).type(PROBLEM_CONTENT_TYPE).send(problemBody(err, request.id))
}

interface FrameworkError {
  code?: string
  statusCode?: number
  validation?: Array<{ instancePath?: string; message?: string }>
  message?: string
}

const FRAMEWORK_CODES: Record<string, NodeError['code']> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported-media-type',
  FST_ERR_CTP_INVALID_TYPE: 'unsupported-media-type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'body-too-large',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed-json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'malformed-json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed-json',
}

/**
 * Any thrown value as a NodeError: ours pass through, the SDK's keep their
 * code, Fastify's get the matching protocol code, the rest are internal.
 * `internal` is true when the error is a bug to log, not a client mistake.
 */
export function toNodeError(err: unknown): { error: NodeError; internal: boolean } {
  if (err instanceof NodeError) return { error: err, internal: err.code === 'internal-error' }
  if (err instanceof TimbreError) return { error: NodeError.from(err), internal: err.code === 'internal-error' }
  const e = (err ?? {}) as FrameworkError
  const mapped = e.code ? FRAMEWORK_CODES[e.code] : undefined
  if (mapped) return { error: new NodeError(mapped, { detail: e.message }), internal: false }
  if (e.validation) {
    const errors = e.validation.map((v) => ({ path: v.instancePath || '/', message: v.message ?? 'invalid' }))
    return { error: new NodeError('schema-violation', { detail: e.message, extra: { errors } }), internal: false }
  }
  if (err instanceof SyntaxError && e.statusCode === 400) return { error: new NodeError('malformed-json', { detail: e.message }), internal: false }
  switch (e.statusCode) {
    case 404: return { error: new NodeError('not-found'), internal: false }
    case 405: return { error: new NodeError('method-not-allowed'), internal: false }
    case 413: return { error: new NodeError('body-too-large'), internal: false }
    case 415: return { error: new NodeError('unsupported-media-type'), internal: false }
    case 503: return { error: new NodeError('unavailable', { retryAfter: 5 }), internal: false }
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    // A client error Fastify raised that has no protocol code of its own (e.g. a bad URL).
    return { error: new NodeError('schema-violation', { detail: e.message }), internal: false }
  }
  // Never echo an internal message: it may hold SQL or paths.
  return { error: new NodeError('internal-error', { detail: 'an unexpected error occurred; quote the requestId when reporting it' }), internal: true }
}
