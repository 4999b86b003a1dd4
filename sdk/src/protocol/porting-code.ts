/**
 * Porting codes (TMB-PORT-002..007): 10 random characters and 2 check
 * characters under MOD 1021-32 over `K ‖ code`, where K is a 14-character
 * key derived from the address by SHA-256. Like a French RIO, the new
 * operator checks format and key at intake, before anything is sent. The key
 * is hashed rather than the address used as is: every valid address is ≡ 1
 * (mod 1021), so `address ‖ code` would bind the code to no address at all.
 * Only a digest of the code is ever stored.
 */
import { randomBytes } from 'node:crypto'
import { TimbreError } from '../errors.js'
import { createHash } from 'node:crypto'
import { sha256b64u } from '../internal/bytes.js'
import { checkChars, inAlphabet, modValue, randomChars } from '../internal/mod1021.js'
import { assertVaultAddress, normalizeVaultAddress } from './vault-address.js'

const RANDOM_LENGTH = 10
const CODE_LENGTH = 12

/** The 14-character binding key of an address: its SHA-256, as Crockford Base32. */
function bindingKey(address: string): string {
  return randomChars(createHash('sha256').update(`timbre-porting-code-key:${address}`).digest().subarray(0, 14))
}

/** Outcome of {@link checkPortingCode}. */
export type PortingCodeCheck = { valid: true; code: string } | { valid: false; reason: 'length' | 'character' | 'check' }

/**
 * Issue a new porting code for an address (donor side, TMB-PORT-001).
 *
 * @example
 * ```ts
 * const code = issuePortingCode('K7QM3X9R2VHD8P7H') // show once, register only its digest
 * ```
 */
export function issuePortingCode(address: string): string {
  const a = assertVaultAddress(address)
  const body = randomChars(randomBytes(RANDOM_LENGTH))
  return body + checkChars(bindingKey(a) + body)
}

/**
 * Build the code for a given random part (vectors and tests).
 *
 * @example
 * ```ts
 * portingCodeFromBody('K7QM3X9R2VHD8P7H', '4ZTQ8MWD0R') // '4ZTQ8MWD0R' + 2 check characters
 * ```
 */
export function portingCodeFromBody(address: string, body: string): string {
  const a = assertVaultAddress(address)
  const b = normalizeVaultAddress(body)
  if (b.length !== RANDOM_LENGTH || !inAlphabet(b)) throw new TimbreError('porting-code-invalid', { detail: 'the random part must be 10 characters' })
  return b + checkChars(bindingKey(a) + b)
}

/**
 * Check a porting code against its address (new operator side, TMB-PORT-007).
 *
 * @example
 * ```ts
 * const r = checkPortingCode('K7QM-3X9R-2VHD-8P7H', '4ztq-8mwd-0r7d')
 * if (!r.valid) tellThePerson(r.reason)
 * ```
 */
export function checkPortingCode(address: string, code: string): PortingCodeCheck {
  const a = assertVaultAddress(address)
  const c = normalizeVaultAddress(code)
  if (c.length !== CODE_LENGTH) return { valid: false, reason: 'length' }
  if (!inAlphabet(c)) return { valid: false, reason: 'character' }
  if (modValue(bindingKey(a) + c) !== 1) return { valid: false, reason: 'check' }
  return { valid: true, code: c }
}

/**
 * Check or throw `porting-code-invalid`.
 *
 * @example
 * ```ts
 * const code = assertPortingCode(address, typed)
 * ```
 */
export function assertPortingCode(address: string, code: string): string {
  const r = checkPortingCode(address, code)
  if (!r.valid) throw new TimbreError('porting-code-invalid', { detail: `porting code fails the ${r.reason} check for this address` })
  return r.code
}

/**
 * The digest under which the directory registers a code; the code itself is
 * never stored (TMB-PORT-005).
 *
 * @example
 * ```ts
 * await directory.registerPortingCode({ address, codeDigest: portingCodeDigest(address, code), expiresAt })
 * ```
 */
export function portingCodeDigest(address: string, code: string): string {
  const a = assertVaultAddress(address)
  const c = normalizeVaultAddress(code)
  return sha256b64u(`timbre-porting-code:${a}:${c}`)
}

/**
 * Display form: three groups of four.
 *
 * @example
 * ```ts
 * formatPortingCode('4ZTQ8MWD0R7D') // '4ZTQ-8MWD-0R7D'
 * ```
 */
export function formatPortingCode(code: string): string {
  const c = normalizeVaultAddress(code)
  return c.match(/.{1,4}/g)!.join('-')
}
