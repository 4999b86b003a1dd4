// Request ids: honour a caller's Request-Id (TMB-OVR-011) or X-Request-Id
// when short and plain, so ids correlate across nodes; otherwise make one.
// The id is echoed in both response headers and in every problem body.
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

/** Response headers carrying the request id: the spec's, and the common de-facto one. */
export const REQUEST_ID_HEADERS = ['request-id', 'x-request-id'] as const

const SANE = /^[A-Za-z0-9._:@-]{1,128}$/

export function genReqId(req: IncomingMessage): string {
  for (const name of REQUEST_ID_HEADERS) {
    const given = req.headers[name]
    if (typeof given === 'string' && SANE.test(given)) return given
  }
  return randomUUID()
}
