export declare const specDir: string
export declare const schemasDir: string
export declare const vectorsDir: string
/** Path of the OpenAPI 3.1 document (the repository root openapi.yaml is a symlink to it). */
export declare const openapiPath: string
export declare const SPEC_VERSION: string
export declare const SCHEMA_BASE: string
export interface Requirement {
  id: string
  level: 'MUST' | 'MUST NOT' | 'SHOULD' | 'SHOULD NOT' | 'MAY'
  chapter: string
  text: string
  roles: string[]
}
export declare function loadSchemas(): Array<Record<string, unknown> & { $id: string }>
export declare function loadRequirements(): { version: string; requirements: Requirement[] }
export declare function loadVector(name: string): any
