// The spec package is data. This loader hands the JSON Schemas, the
// requirement index and the vectors to code that needs them (ajv, tests).
import { readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'

export const specDir = fileURLToPath(new URL('.', import.meta.url))
export const schemasDir = join(specDir, 'schemas')
export const vectorsDir = join(specDir, 'vectors')
export const openapiPath = join(specDir, 'openapi.yaml')
export const SPEC_VERSION = '1.0.0-draft'
export const SCHEMA_BASE = 'https://timbre.dev/schemas/v1/'

/** Every JSON Schema of the spec, parsed, sorted by file name. */
export function loadSchemas() {
  return readdirSync(schemasDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(schemasDir, f), 'utf8')))
}

/** The requirement index generated from the chapter files. */
export function loadRequirements() {
  return JSON.parse(readFileSync(join(specDir, 'requirements.json'), 'utf8'))
}

/** One vector file from spec/vectors, parsed. */
export function loadVector(name) {
  return JSON.parse(readFileSync(join(vectorsDir, name), 'utf8'))
}
