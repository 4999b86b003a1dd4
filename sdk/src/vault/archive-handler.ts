/**
 * The new operator's endpoint `PUT /v1/archive-imports/{portId}` (spec 9.6),
 * framework-agnostic and streaming: the caller's proof is checked before the
 * body is read, the body's digest against the proof after it is read and
 * before anything is stored (TMB-ARC-005..008).
 */
import { createHash } from 'node:crypto'
import { Readable, Transform } from 'node:stream'
import { problemFor, TimbreError, type ProblemDetails } from '../errors.js'
import { peekPayload } from '../internal/jws.js'
import { UUID_PATTERN, uuidv7 } from '../protocol/identifiers.js'
import { verifyRequestProof, type RequestProofClaims } from '../protocol/request-auth.js'
import type { NodeResponse } from './porting-types.js'
import type { Port } from './porting-types.js'
import type { ReplayStore } from './replay-store.js'
import type { NodeKeyResolver, RelayLogger } from './relay-handler.js'
import type { ArchiveImportResponse } from './storage/types.js'

/** An archive import request as any HTTP framework hands it over; the body is a stream. */
export interface ArchiveImportRequest {
  /** HTTP method (only PUT is accepted). */
  method: string
  /** Path as received (the proof's `htu`), e.g. `/v1/archive-imports/{portId}`. */
  path: string
  /** The `portId` path parameter. */
  portId: string
  /** Request headers, lowercase names. */
  headers: Record<string, string | string[] | undefined>
  /** The tar body, unread. */
  body: Readable | AsyncIterable<Uint8Array>
  /** The framework's request id. */
  requestId?: string
}

/** @internal */
export interface ArchiveHandlerContext {
  operatorId: string
  replay: ReplayStore
  resolveOperatorKey: NodeKeyResolver
  getPort: (portId: string) => Promise<Port>
  findImport: (portId: string) => Promise<ArchiveImportResponse | undefined>
  importFor: (port: Port, body: Readable, afterRead: () => void) => Promise<{ repeated: boolean; response: ArchiveImportResponse }>
  logger?: RelayLogger | undefined
}

const header = (req: ArchiveImportRequest, name: string): string | undefined => {
  const v = req.headers[name]
  return Array.isArray(v) ? v[0] : v
}

/** @internal */
export async function handleArchiveImport(ctx: ArchiveHandlerContext, req: ArchiveImportRequest): Promise<NodeResponse<ArchiveImportResponse | ProblemDetails>> {
  const requestId = req.requestId ?? header(req, 'x-request-id') ?? uuidv7()
  const input = req.body instanceof Readable ? req.body : Readable.from(req.body)
  try {
    if (req.method.toUpperCase() !== 'PUT') throw new TimbreError('method-not-allowed')
    const mediaType = header(req, 'content-type')?.split(';')[0]?.trim().toLowerCase()
    if (mediaType !== 'application/x-tar') throw new TimbreError('unsupported-media-type', { detail: 'the archive must be application/x-tar' })
    // The proof first, trusting its own body digest for now; the bytes are compared once they are in.
    const claimed = peekPayload<RequestProofClaims>(header(req, 'authorization')?.split(/\s+/)[1] ?? '')
    const claims = await verifyRequestProof(header(req, 'authorization'), {
      aud: ctx.operatorId,
      method: req.method,
      path: req.path,
      body: undefined,
      bodyDigest: typeof claimed?.bdg === 'string' ? claimed.bdg : '',
      resolveKey: async (iss, kid) => (await ctx.resolveOperatorKey(iss, kid)) ?? Promise.reject(new TimbreError('node-untrusted', { detail: `${iss} is not a trusted operator` })),
    })
    if (!(await ctx.replay.claim(claims.jti, claims.exp))) throw new TimbreError('request-replayed')
    if (!UUID_PATTERN.test(req.portId)) throw new TimbreError('not-found')
    let port: Port
    try {
      port = await ctx.getPort(req.portId)
    } catch (err) {
      if (err instanceof TimbreError && err.code === 'not-found') throw new TimbreError('not-found', { detail: 'no such port' })
      throw err
    }
    // Only a completed port to us, only from its donor (TMB-ARC-005).
    if (port.recipientOperator !== ctx.operatorId || port.status !== 'completed') throw new TimbreError('not-found', { detail: 'no completed port to this operator' })
    if (claims.iss !== port.donor) throw new TimbreError('node-untrusted', { detail: 'only the donor of the port may transfer its archive' })

    const hash = createHash('sha256')
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk)
        cb(null, chunk)
      },
    })
    input.on('error', (err) => meter.destroy(err))
    const body = input.pipe(meter)
    const checkBody = () => {
      if (hash.copy().digest('base64url') !== claims.bdg) throw new TimbreError('auth-invalid', { detail: 'the body does not match the proof' })
    }
    const earlier = await ctx.findImport(port.portId)
    let result: { repeated: boolean; response: ArchiveImportResponse }
    if (earlier) {
      // A repeated transfer gets the first answer (TMB-ARC-008); its bytes are still read and checked.
      for await (const _ of body) void _
      checkBody()
      result = { repeated: true, response: earlier }
    } else {
      result = await ctx.importFor(port, body, checkBody)
    }
    ctx.logger?.info({ requestId, portId: port.portId, imported: result.response.imported, repeated: result.repeated }, 'archive imported')
    return { status: result.repeated ? 200 : 201, headers: { 'content-type': 'application/json', 'x-request-id': requestId }, body: result.response }
  } catch (caught) {
    input.resume()
    const err = caught instanceof TimbreError ? caught : new TimbreError('internal-error', { cause: caught })
    if (!(caught instanceof TimbreError)) ctx.logger?.error({ requestId, err: (caught as Error)?.message }, 'archive import failed')
    else ctx.logger?.warn({ requestId, code: err.code }, 'archive import refused')
    const problem = problemFor(err.code, { detail: err.detail, requestId, extra: err.extra })
    const headers: Record<string, string> = { 'content-type': 'application/problem+json', 'x-request-id': requestId }
    if (problem.status === 401) headers['www-authenticate'] = 'Timbre'
    return { status: problem.status, headers, body: problem }
  }
}
