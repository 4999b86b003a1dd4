// Plain HTTP calls to a node over loopback (undici), with helpers for JSON
// bodies and the admin token.
import { request } from 'undici'
import { TEST_ADMIN_TOKEN } from './node.js'

export interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  /** Parsed JSON body, or undefined when not JSON. */
  json: any
}

export interface CallOptions {
  /** A value is sent as JSON; a string or Buffer as-is. */
  body?: unknown
  headers?: Record<string, string>
  /** Send `Authorization: Bearer <admin token>` (default token when true). */
  admin?: boolean | string
}

export async function call(baseUrl: string, method: string, path: string, options: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers }
  let body: string | Buffer | undefined
  if (typeof options.body === 'string' || Buffer.isBuffer(options.body)) {
    body = options.body
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body)
    headers['content-type'] ??= 'application/json'
  }
  if (options.admin) headers.authorization = `Bearer ${options.admin === true ? TEST_ADMIN_TOKEN : options.admin}`
  const res = await request(baseUrl + path, { method: method as 'GET', headers, body })
  const text = await res.body.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: res.statusCode, headers: res.headers, text, json }
}
