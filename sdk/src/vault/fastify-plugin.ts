/**
 * The relay endpoint as a Fastify plugin. Only Fastify's types are imported,
 * so the SDK works without Fastify installed. The plugin is deliberately not
 * wrapped with `fastify-plugin`: its raw-body parser and error handler stay
 * inside its own encapsulation context and never change the host's routes.
 */
import type { FastifyError, FastifyPluginAsync } from 'fastify'
import { problemFor, type ErrorCode } from '../errors.js'
import { DEFAULT_MAX_REQUEST_BYTES, type RelayHandler } from './relay-handler.js'

/** Options of the relay plugin. */
export interface RelayPluginOptions {
  /** Route path (default `/v1/relay`). */
  path?: string
  /** Largest accepted body in bytes (default 15 000 000). */
  bodyLimit?: number
}

const codeForStatus = (status: number): ErrorCode =>
  status === 413 ? 'body-too-large' : status === 415 ? 'unsupported-media-type' : status === 400 ? 'malformed-json' : 'internal-error'

/**
 * A Fastify plugin serving `POST /v1/relay` with a relay handler.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify'
 * const app = Fastify({ logger: true })
 * await app.register(relayPlugin(createRelayHandler(options)))
 * await app.listen({ port: 8082 })
 * ```
 */
export function relayPlugin(handler: RelayHandler, defaults: RelayPluginOptions = {}): FastifyPluginAsync<RelayPluginOptions> {
  return async function timbreRelay(app, options) {
    const path = options.path ?? defaults.path ?? '/v1/relay'
    const bodyLimit = options.bodyLimit ?? defaults.bodyLimit ?? DEFAULT_MAX_REQUEST_BYTES
    // The proof signs the exact bytes, so the body must reach the handler unparsed; the handler checks the media type.
    app.removeAllContentTypeParsers()
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body))

    app.setErrorHandler((error: FastifyError, request, reply) => {
      const status = typeof error.statusCode === 'number' ? error.statusCode : 500
      const problem = problemFor(codeForStatus(status), { requestId: String(request.id) })
      if (problem.status >= 500) request.log.error({ code: error.code }, 'relay endpoint error')
      return reply.code(problem.status).type('application/problem+json').send(problem)
    })

    app.post(path, { bodyLimit }, async (request, reply) => {
      const rawBody = request.body instanceof Uint8Array ? request.body : new Uint8Array(0)
      const res = await handler({
        method: request.method,
        path: request.url,
        headers: request.headers,
        rawBody,
        requestId: String(request.id),
      })
      return reply.code(res.status).headers(res.headers).send(res.body)
    })
  }
}
