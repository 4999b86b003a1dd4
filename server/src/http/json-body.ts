// JSON bodies, parsed from the raw bytes, which stay on the request:
// request proofs sign the SHA-256 of the exact body (TMB-AUTH, `bdg`), so the
// verifier must hash what arrived, not a re-serialisation.
import type { FastifyInstance } from 'fastify'
import { NodeError } from '../errors.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The exact body bytes of a JSON request (undefined without a body). */
    rawBody: Buffer | undefined
  }
}

/** `application/json` and any `application/<x>+json`; Fastify tests the regex against the header with its parameters. */
const JSON_TYPES = /^application\/(?:[a-z0-9!#$&^_.-]+\+)?json(?:\s*;.*)?$/i

const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Replace Fastify's parsers with one JSON parser. Any other content type is
 * refused by Fastify with FST_ERR_CTP_INVALID_MEDIA_TYPE → 415
 * `unsupported-media-type`; bodies over `bodyLimit` → 413 `body-too-large`.
 */
export function registerJsonBody(app: FastifyInstance): void {
  app.decorateRequest('rawBody', undefined)
  // Prototype-poisoning keys (__proto__, constructor.prototype) are errors.
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeAllContentTypeParsers()
  app.addContentTypeParser(JSON_TYPES, { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer
    request.rawBody = bytes
    let text: string
    try {
      text = utf8.decode(bytes)
    } catch {
      done(new NodeError('malformed-json', { detail: 'the body is not valid UTF-8' }), undefined)
      return
    }
    parseJson(request, text, (err, value) => {
      if (err) done(new NodeError('malformed-json', { detail: err.message }), undefined)
      else done(null, value)
    })
  })
}
