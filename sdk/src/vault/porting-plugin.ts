/**
 * The portability endpoints of a vault operator as a Fastify plugin:
 * `POST /v1/notifications/ports` (raw JSON bytes, for the proof) and
 * `PUT /v1/archive-imports/{portId}` (the tar body handed over as an unread
 * stream, TMB-ARC-011). Like the relay plugin, its parsers stay inside its own
 * encapsulation context.
 */
import type { FastifyError, FastifyPluginAsync } from 'fastify'
import { problemFor, type ErrorCode } from '../errors.js'
import type { ArchiveImportRequest } from './archive-handler.js'
import type { NodeRequest, NodeResponse } from './porting-types.js'

/** The handlers the portability plugin serves. */
export interface PortingPluginHandlers {
  /** Handles `POST /v1/notifications/ports`. */
  notification: (req: NodeRequest) => Promise<NodeResponse>
  /** Handles `PUT /v1/archive-imports/{portId}`. */
  archiveImport: (req: ArchiveImportRequest) => Promise<NodeResponse>
}

const codeForStatus = (status: number): ErrorCode =>
  status === 413 ? 'body-too-large' : status === 415 ? 'unsupported-media-type' : status === 400 ? 'malformed-json' : 'internal-error'

/**
 * A Fastify plugin serving the port notification and archive import endpoints.
 *
 * @example
 * ```ts
 * await app.register(portingPlugin({ notification: (r) => kit.handlePortNotification(r), archiveImport: (r) => kit.handleArchiveImport(r) }))
 * ```
 */
export function portingPlugin(handlers: PortingPluginHandlers): FastifyPluginAsync {
  return async function timbrePorting(app) {
    app.removeAllContentTypeParsers()
    app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: 1_000_000 }, (_req, body, done) => done(null, body))
    // The archive stays a stream: the handler hashes and stages it as it arrives.
    app.addContentTypeParser('application/x-tar', (_req, payload, done) => done(null, payload))
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const status = typeof error.statusCode === 'number' ? error.statusCode : 500
      const problem = problemFor(codeForStatus(status), { requestId: String(request.id) })
      return reply.code(problem.status).type('application/problem+json').send(problem)
    })
    app.post('/v1/notifications/ports', async (request, reply) => {
      const res = await handlers.notification({
        method: request.method,
        path: request.url,
        headers: request.headers,
        rawBody: request.body instanceof Uint8Array ? request.body : new Uint8Array(0),
        requestId: String(request.id),
      })
      return reply.code(res.status).headers(res.headers).send(res.body)
    })
    app.put<{ Params: { portId: string } }>('/v1/archive-imports/:portId', async (request, reply) => {
      const body = request.body as NodeJS.ReadableStream | undefined
      const res = await handlers.archiveImport({
        method: request.method,
        path: request.url,
        portId: request.params.portId,
        headers: request.headers,
        body: (body ?? (async function* () {})()) as ArchiveImportRequest['body'],
        requestId: String(request.id),
      })
      return reply.code(res.status).headers(res.headers).send(res.body)
    })
  }
}
