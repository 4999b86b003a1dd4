import { randomBytes } from 'node:crypto'

/** ISO 6523 organisation identifier `icd:value`, e.g. `0009:12345678900011` (SIRET). */
export type OrganisationId = string

/** Pattern of an organisation id (TMB-ID). */
export const ORGANISATION_ID_PATTERN = /^[0-9]{4}:[A-Za-z0-9][A-Za-z0-9._-]{0,49}$/
/** Pattern of an operator id, a lowercase DNS-like label (TMB-ID). */
export const OPERATOR_ID_PATTERN = /^[a-z0-9](?:[a-z0-9.-]{0,61}[a-z0-9])?$/
/** Pattern of a message or evidence id: a lowercase RFC 9562 UUID. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

/**
 * True for a well-formed ISO 6523 `icd:value` organisation id.
 *
 * @example
 * ```ts
 * isOrganisationId('0009:12345678900011') // true
 * ```
 */
export function isOrganisationId(value: string): boolean {
  return ORGANISATION_ID_PATTERN.test(value)
}

/**
 * True for a well-formed operator id.
 *
 * @example
 * ```ts
 * isOperatorId('vault-a.example') // true
 * ```
 */
export function isOperatorId(value: string): boolean {
  return OPERATOR_ID_PATTERN.test(value)
}

/**
 * A new UUID version 7 (time-ordered), used for message and evidence ids.
 *
 * @example
 * ```ts
 * const messageId = uuidv7()
 * ```
 */
export function uuidv7(now: number = Date.now()): string {
  const b = randomBytes(16)
  b.writeUIntBE(now, 0, 6)
  b[6] = 0x70 | (b[6]! & 0x0f)
  b[8] = 0x80 | (b[8]! & 0x3f)
  const h = b.toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}
