// Request ids: honour a caller's X-Request-Id when it is short and plain
// (so ids can be correlated across nodes), otherwise make one. The id is
// echoed in the response header and in every problem body.
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

export const REQUEST_ID_HEADER = 'x-request-id'

const SANE = /^[A-Za-z0-9._:@-]{1,128}$/

export function genReqId(req: IncomingMessage): string {
  const given = req.headers[REQUEST_ID_HEADER]
  return typeof given === 'string' && SANE.test(given) ? given : randomUUID()
}
