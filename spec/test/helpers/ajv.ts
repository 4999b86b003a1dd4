// Shared ajv set-up for the spec tests: JSON Schema 2020-12, strict mode,
// ajv-formats, every schema of spec/schemas registered under its $id.
import Ajv2020Module from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { loadSchemas, SCHEMA_BASE } from '../../index.js'

// ajv and ajv-formats are CommonJS; under NodeNext their default export is the module object.
const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as typeof Ajv2020Module.default
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as typeof addFormatsModule.default

export type JsonSchema = Record<string, unknown> & { $id: string; title?: string; description?: string; examples?: unknown[] }

export { SCHEMA_BASE }

/** Every schema of spec/schemas, parsed. */
export function schemas(): JsonSchema[] {
  return loadSchemas() as JsonSchema[]
}

/** A strict 2020-12 ajv with formats, optionally with every spec schema added. */
export function makeAjv(options: { strict?: boolean; withSchemas?: boolean } = {}) {
  const ajv = new Ajv2020({ strict: options.strict ?? true, allErrors: true })
  addFormats(ajv)
  if (options.withSchemas ?? true) for (const s of schemas()) ajv.addSchema(s)
  return ajv
}
