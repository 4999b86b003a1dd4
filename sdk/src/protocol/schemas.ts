/**
 * Validation against the spec's JSON Schemas (2020-12) with ajv in strict
 * mode. Every schema of `@timbre/spec` is loaded once, by `$id`.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { loadSchemas, SCHEMA_BASE } from '@timbre/spec'
import { TimbreError } from '../errors.js'

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020

let shared: Ajv2020 | undefined

/**
 * The shared ajv instance holding every spec schema.
 *
 * @example
 * ```ts
 * const ajv = specAjv(); ajv.getSchema(schemaId('envelope.json'))
 * ```
 */
export function specAjv(): Ajv2020 {
  if (!shared) {
    const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true })
    addFormats(ajv)
    ajv.addKeyword({ keyword: 'example' })
    for (const schema of loadSchemas()) ajv.addSchema(schema)
    shared = ajv
  }
  return shared
}

/**
 * The full `$id` of a spec schema file.
 *
 * @example
 * ```ts
 * schemaId('envelope.json') // 'https://timbre.dev/schemas/v1/envelope.json'
 * ```
 */
export function schemaId(file: string): string {
  return SCHEMA_BASE + file
}

/**
 * A compiled validator for one spec schema file.
 *
 * @example
 * ```ts
 * const validate = schemaValidator('submission-request.json')
 * if (!validate(body)) console.log(validate.errors)
 * ```
 */
export function schemaValidator(file: string): ValidateFunction {
  const fn = specAjv().getSchema(schemaId(file))
  if (!fn) throw new TimbreError('internal-error', { detail: `no spec schema ${file}` })
  return fn
}

/** One schema error, with a JSON pointer path. */
export interface SchemaError {
  path: string
  message: string
}

/** @internal */
export function toSchemaErrors(errors: ErrorObject[] | null | undefined): SchemaError[] {
  return (errors ?? []).slice(0, 20).map((e) => ({ path: e.instancePath || '/', message: e.message ?? 'invalid' }))
}

/**
 * Validate or throw `schema-violation` with the errors attached.
 *
 * @example
 * ```ts
 * assertSchema('submission-request.json', body)
 * ```
 */
export function assertSchema<T>(file: string, value: unknown): T {
  const validate = schemaValidator(file)
  if (!validate(value)) {
    const errors = toSchemaErrors(validate.errors)
    throw new TimbreError('schema-violation', {
      detail: errors.map((e) => `${e.path} ${e.message}`).join('; '),
      extra: { errors },
    })
  }
  return value as T
}
