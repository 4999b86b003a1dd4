/**
 * JSON over HTTP with undici, mapping every failure to a {@link TimbreError}:
 * problem+json bodies keep their code, transport failures become
 * `network-error` or `timeout`, anything else outside the protocol becomes
 * `unexpected-response`.
 */
import type { Readable } from 'node:stream'
import { request, type Dispatcher } from 'undici'
import { isErrorCode, TimbreError, type ErrorCode } from '../errors.js'

/** Options of a {@link JsonHttp} transport. */
export interface JsonHttpOptions {
  /** An undici dispatcher (Agent, Pool, MockAgent…); the global one when absent. */
  dispatcher?: Dispatcher | undefined
  /** Per-request timeout in milliseconds (headers and body). Default 30 000. */
  timeoutMs?: number | undefined
  /** Value of the `user-agent` header. */
  userAgent?: string | undefined
}

/** One request as {@link JsonHttp.send} takes it. */
export interface JsonRequest {
  /** HTTP method. */
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  /** Absolute URL. */
  url: string
  /** Extra request headers. */
  headers?: Record<string, string>
  /** The exact body bytes (already serialised, because proofs sign them), or a stream (an archive) of known digest. */
  body?: string | Readable
}

/** A successful answer. */
export interface JsonResponse<T> {
  /** HTTP status (2xx). */
  status: number
  /** Response headers. */
  headers: Record<string, string | string[] | undefined>
  /** The parsed JSON body (undefined for an empty body). */
  body: T
  /** The server's request id (`x-request-id`), when it sent one. */
  requestId: string | undefined
}

const header = (headers: Record<string, string | string[] | undefined>, name: string): string | undefined => {
  const v = headers[name]
  return Array.isArray(v) ? v[0] : v
}

/**
 * Parse `Retry-After` (delta-seconds or HTTP date) into seconds.
 *
 * @example
 * ```ts
 * parseRetryAfter('3') // 3
 * parseRetryAfter(new Date(Date.now() + 5000).toUTCString()) // about 5
 * ```
 */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed)
  const at = Date.parse(trimmed)
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000))
}

// A server that answers without a problem body still gets a meaningful code.
function codeForStatus(status: number): ErrorCode {
  if (status === 404) return 'not-found'
  if (status === 405) return 'method-not-allowed'
  if (status === 413) return 'body-too-large'
  if (status === 415) return 'unsupported-media-type'
  if (status === 429) return 'rate-limited'
  if (status === 503 || status === 502 || status === 504) return 'unavailable'
  if (status >= 500) return 'internal-error'
  return 'unexpected-response'
}

function transportError(cause: unknown): TimbreError {
  const err = cause as { name?: string; code?: string; message?: string }
  const timedOut =
    err?.name === 'TimeoutError' ||
    err?.code === 'UND_ERR_HEADERS_TIMEOUT' ||
    err?.code === 'UND_ERR_BODY_TIMEOUT' ||
    err?.code === 'UND_ERR_CONNECT_TIMEOUT'
  if (timedOut) return new TimbreError('timeout', { detail: 'the server did not answer in time', cause })
  return new TimbreError('network-error', { detail: err?.code ?? err?.message ?? 'request failed', cause })
}

/**
 * A small JSON transport over undici with an injectable dispatcher.
 *
 * @example
 * ```ts
 * const http = new JsonHttp({ timeoutMs: 10_000 })
 * const { body } = await http.send<{ nodeId: string }>({ method: 'GET', url: 'https://node.example/.well-known/timbre' })
 * ```
 */
export class JsonHttp {
  #dispatcher: Dispatcher | undefined
  #timeoutMs: number
  #userAgent: string

  constructor(options: JsonHttpOptions = {}) {
    this.#dispatcher = options.dispatcher
    this.#timeoutMs = options.timeoutMs ?? 30_000
    this.#userAgent = options.userAgent ?? '@timbre/sdk'
  }

  /** Send one request; resolves with the parsed JSON of a 2xx answer, throws {@link TimbreError} otherwise. */
  async send<T>(req: JsonRequest): Promise<JsonResponse<T>> {
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json', 'user-agent': this.#userAgent, ...req.headers }
    if (typeof req.body === 'string') headers['content-type'] ??= 'application/json'
    let res: Dispatcher.ResponseData
    try {
      res = await request(req.url, {
        method: req.method,
        headers,
        body: req.body,
        signal: AbortSignal.timeout(this.#timeoutMs),
        ...(this.#dispatcher ? { dispatcher: this.#dispatcher } : {}),
      })
    } catch (cause) {
      throw transportError(cause)
    }
    let text: string
    try {
      text = await res.body.text()
    } catch (cause) {
      throw transportError(cause)
    }
    const resHeaders = res.headers as Record<string, string | string[] | undefined>
    const requestId = header(resHeaders, 'x-request-id')
    let json: unknown
    let parsed = false
    if (text.length > 0) {
      try {
        json = JSON.parse(text)
        parsed = true
      } catch {
        parsed = false
      }
    }
    if (res.statusCode >= 200 && res.statusCode < 300) {
      if (!parsed && text.length > 0) {
        throw new TimbreError('unexpected-response', { status: res.statusCode, requestId, detail: 'the answer is not JSON' })
      }
      return { status: res.statusCode, headers: resHeaders, body: json as T, requestId }
    }
    throw problemError(res.statusCode, resHeaders, parsed ? json : undefined, requestId)
  }
}

function problemError(
  status: number,
  headers: Record<string, string | string[] | undefined>,
  body: unknown,
  headerRequestId: string | undefined,
): TimbreError {
  const retryAfter = parseRetryAfter(header(headers, 'retry-after'))
  const problem = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined
  const requestId = headerRequestId ?? (typeof problem?.requestId === 'string' ? problem.requestId : undefined)
  if (problem && isErrorCode(problem.code)) {
    const { type: _t, title: _ti, status: _s, detail, code: _c, retryable, requestId: _r, ...extra } = problem
    return new TimbreError(problem.code, {
      status,
      requestId,
      retryAfter,
      ...(typeof detail === 'string' ? { detail } : {}),
      ...(typeof retryable === 'boolean' ? { retryable } : {}),
      extra,
    })
  }
  return new TimbreError(codeForStatus(status), { status, requestId, retryAfter, detail: `HTTP ${status} without a Timbre problem body` })
}
