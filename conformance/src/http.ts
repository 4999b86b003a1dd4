/**
 * HTTP with a record: every request an assertion sends is kept, with its
 * answer, for the reports. Authorization values are truncated.
 */
import { request } from 'undici'
import type { Exchange } from './types.js'

const EXCERPT = 2000

export interface HttpResponse {
  status: number
  headers: Record<string, string>
  text: string
  /** The parsed JSON body, or undefined when the body is not JSON. */
  json: any
  exchange: Exchange
}

export interface SendOptions {
  method?: string
  headers?: Record<string, string>
  body?: string | Uint8Array
  timeoutMs?: number
}

function excerpt(text: string): string {
  return text.length > EXCERPT ? `${text.slice(0, EXCERPT)}… (${text.length} characters)` : text
}

function redact(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === 'authorization') {
      const [scheme, token] = v.split(' ')
      out[k] = token ? `${scheme} ${token.slice(0, 24)}…` : v.slice(0, 24)
    } else out[k] = v
  }
  return out
}

/** An HTTP client that records each exchange into `log`. */
export class RecordingHttp {
  constructor(
    readonly log: Exchange[],
    readonly defaultTimeoutMs: number,
  ) {}

  async send(url: string, options: SendOptions = {}): Promise<HttpResponse> {
    const method = options.method ?? 'GET'
    const headers = options.headers ?? {}
    const body = options.body
    const exchange: Exchange = { method, url, requestHeaders: redact(headers) }
    if (body !== undefined) {
      const s = typeof body === 'string' ? body : Buffer.from(body).toString('utf8')
      exchange.requestBody = excerpt(s)
      exchange.requestBytes = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength
    }
    this.log.push(exchange)
    const started = performance.now()
    const timeout = options.timeoutMs ?? this.defaultTimeoutMs
    try {
      const res = await request(url, {
        method: method as any,
        headers,
        body,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      })
      const text = await res.body.text()
      const rh: Record<string, string> = {}
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) rh[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v
      exchange.status = res.statusCode
      exchange.responseHeaders = rh
      exchange.responseBody = excerpt(text)
      exchange.durationMs = Math.round(performance.now() - started)
      let json: any
      try {
        json = text ? JSON.parse(text) : undefined
      } catch {
        json = undefined
      }
      return { status: res.statusCode, headers: rh, text, json, exchange }
    } catch (err) {
      exchange.durationMs = Math.round(performance.now() - started)
      exchange.error = err instanceof Error ? `${err.name}: ${err.message}${(err as any).code ? ` (${(err as any).code})` : ''}` : String(err)
      throw err
    }
  }
}
