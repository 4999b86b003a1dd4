// A few lines of JSON-over-HTTP for the examples' admin calls (the SDK's
// TimbreClient covers the protocol itself). Errors carry the problem's code.

/** An HTTP answer that was not 2xx, with the RFC 9457 problem when there is one. */
export class HttpError extends Error {
  readonly status: number
  readonly code: string | undefined
  readonly body: unknown

  constructor(method: string, url: string, status: number, body: unknown) {
    const problem = typeof body === 'object' && body !== null ? (body as { code?: unknown; detail?: unknown; title?: unknown }) : {}
    const code = typeof problem.code === 'string' ? problem.code : undefined
    const detail = typeof problem.detail === 'string' ? problem.detail : typeof problem.title === 'string' ? problem.title : ''
    super(`${method} ${url} → ${status}${code ? ` ${code}` : ''}${detail ? `: ${detail}` : ''}`)
    this.name = 'HttpError'
    this.status = status
    this.code = code
    this.body = body
  }
}

export interface JsonCall {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  headers?: Record<string, string>
  /** A value to send as JSON, or an exact string body. */
  body?: unknown
  timeoutMs?: number
}

/** Send a JSON request; resolve with the parsed body of a 2xx answer, throw {@link HttpError} otherwise. */
export async function jsonRequest<T = unknown>(url: string, call: JsonCall = {}): Promise<{ status: number; body: T }> {
  const method = call.method ?? (call.body === undefined ? 'GET' : 'POST')
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json', ...call.headers }
  let body: string | undefined
  if (call.body !== undefined) {
    body = typeof call.body === 'string' ? call.body : JSON.stringify(call.body)
    headers['content-type'] ??= 'application/json'
  }
  const res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(call.timeoutMs ?? 15_000) })
  const text = await res.text()
  let parsed: unknown = text
  if (text && /json/.test(res.headers.get('content-type') ?? '')) {
    try {
      parsed = JSON.parse(text)
    } catch {
      // keep the text
    }
  }
  if (!res.ok) throw new HttpError(method, url, res.status, parsed)
  return { status: res.status, body: parsed as T }
}

/** Poll `url` until it answers 2xx, or throw after `timeoutMs`. */
export async function waitUntilUp(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) })
      await res.body?.cancel()
      if (res.ok) return
      last = new Error(`${url} answered ${res.status}`)
    } catch (err) {
      last = err
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${url} did not come up within ${timeoutMs} ms: ${last instanceof Error ? last.message : String(last)}`)
}

export const trimSlash = (url: string): string => url.replace(/\/+$/, '')
