// The OpenAPI document is the spec's (spec/openapi.yaml), served as-is
// through @fastify/swagger in static mode, with Swagger UI at /docs. The
// node never generates it from routes: the spec is the contract.
import { existsSync, readFileSync } from 'node:fs'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { openapiPath, SPEC_VERSION } from '@timbre/spec'
import type { FastifyInstance } from 'fastify'
import { parse } from 'yaml'

export interface OpenApiDocument {
  readonly document: Record<string, unknown>
  /** The file it came from, or null for the placeholder. */
  readonly path: string | null
}

/**
 * Read spec/openapi.yaml. The node refuses to start without it (the spec is
 * the contract); `required: false` serves a placeholder instead, for tools
 * that embed the app without the spec package's files.
 */
export function loadOpenApiDocument(options: { required?: boolean; path?: string } = {}): OpenApiDocument {
  const path = options.path ?? openapiPath
  if (!existsSync(path)) {
    if (options.required !== false) throw new Error(`OpenAPI document not found at ${path}`)
    return {
      path: null,
      document: {
        openapi: '3.1.0',
        info: { title: 'Timbre node', version: SPEC_VERSION, description: `Placeholder: ${path} is missing.` },
        paths: {},
      },
    }
  }
  const document = parse(readFileSync(path, 'utf8')) as unknown
  if (typeof document !== 'object' || document === null || typeof (document as { openapi?: unknown }).openapi !== 'string') {
    throw new Error(`${path} is not an OpenAPI document`)
  }
  return { path, document: document as Record<string, unknown> }
}

/** Register /docs (UI), /docs/json and /docs/yaml. */
export async function registerOpenApi(app: FastifyInstance, doc: OpenApiDocument, baseUrl: () => string): Promise<void> {
  // The document is the spec's, checked by the spec's own tests; the cast only bridges typings.
  const document = doc.document as never
  await app.register(swagger, { mode: 'static', specification: { document } })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // "Try it out" talks to this node, whatever servers the spec lists.
    transformSpecification: (spec) => ({ ...spec, servers: [{ url: baseUrl() }] }),
    uiConfig: { docExpansion: 'list', deepLinking: true },
  })
}
