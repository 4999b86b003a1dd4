/**
 * Vault addresses (TMB-ADDR): 14 random Crockford Base32 characters and two
 * check characters under the MOD 1021-32 rule. Because 1021 is prime and
 * coprime to 32 and to 31, every single substitution and every adjacent
 * transposition changes the value mod 1021, so every such typo is caught.
 */
import { randomBytes } from 'node:crypto'
import { TimbreError } from '../errors.js'
import { ALPHABET, checkChars, inAlphabet, modValue, randomChars } from '../internal/mod1021.js'

const PAYLOAD_LENGTH = 14
const ADDRESS_LENGTH = 16
// Crockford's decoding aliases: readers confuse these, so they map to one symbol.
const ALIASES: Record<string, string> = { O: '0', I: '1', L: '1' }

/** A vault address in normal form: 16 uppercase Crockford Base32 characters. */
export type VaultAddress = string & { readonly __brand?: 'VaultAddress' }

/** Outcome of {@link parseVaultAddress}. */
export type VaultAddressCheck =
  | { valid: true; address: VaultAddress }
  | { valid: false; reason: 'length' | 'character' | 'check' }

/**
 * Normalise what a person typed: trim, uppercase, drop spaces and hyphens,
 * map Crockford aliases. Does not check validity.
 *
 * @example
 * ```ts
 * normalizeVaultAddress(' k7qm-3x9r 2vhd-8p7h ') // 'K7QM3X9R2VHD8P7H'
 * ```
 */
export function normalizeVaultAddress(input: string): string {
  return input
    .trim()
    .toUpperCase()
    .replace(/[\s-]/g, '')
    .replace(/[OIL]/g, (c) => ALIASES[c]!)
}

/**
 * Check and normalise a vault address.
 *
 * @example
 * ```ts
 * const r = parseVaultAddress('K7QM-3X9R-2VHD-8P7H')
 * if (!r.valid) console.log(r.reason) // 'check' for a typo
 * ```
 */
export function parseVaultAddress(input: string): VaultAddressCheck {
  const s = normalizeVaultAddress(input)
  if (s.length !== ADDRESS_LENGTH) return { valid: false, reason: 'length' }
  if (!inAlphabet(s)) return { valid: false, reason: 'character' }
  if (modValue(s) !== 1) return { valid: false, reason: 'check' }
  return { valid: true, address: s }
}

/**
 * True when the input is a valid vault address (after normalisation).
 *
 * @example
 * ```ts
 * isValidVaultAddress('K7QM3X9R2VHD8P7H')
 * ```
 */
export function isValidVaultAddress(input: string): boolean {
  return parseVaultAddress(input).valid
}

/**
 * Parse or throw `invalid-vault-address`. Use at every boundary.
 *
 * @example
 * ```ts
 * const to = assertVaultAddress(form.address) // throws TimbreError on a typo
 * ```
 */
export function assertVaultAddress(input: string): VaultAddress {
  const r = parseVaultAddress(input)
  if (!r.valid) {
    throw new TimbreError('invalid-vault-address', { detail: `vault address fails the ${r.reason} check` })
  }
  return r.address
}

/**
 * Build an address from a 14-character payload (for tests and vectors).
 *
 * @example
 * ```ts
 * vaultAddressFromPayload('00000000000000') // payload + 2 check characters
 * ```
 */
export function vaultAddressFromPayload(payload: string): VaultAddress {
  const p = normalizeVaultAddress(payload)
  if (p.length !== PAYLOAD_LENGTH || !inAlphabet(p)) {
    throw new TimbreError('invalid-vault-address', { detail: 'payload must be 14 Crockford Base32 characters' })
  }
  return p + checkChars(p)
}

/**
 * A new random vault address (70 bits from the CSPRNG). Never derive an
 * address from an identity number (TMB-ADDR).
 *
 * @example
 * ```ts
 * const address = generateVaultAddress()
 * ```
 */
export function generateVaultAddress(): VaultAddress {
  const payload = randomChars(randomBytes(PAYLOAD_LENGTH))
  return payload + checkChars(payload)
}

/**
 * Human-readable grouping: four groups of four separated by hyphens.
 *
 * @example
 * ```ts
 * formatVaultAddress('K7QM3X9R2VHD8P7H') // 'K7QM-3X9R-2VHD-8P7H'
 * ```
 */
export function formatVaultAddress(address: string): string {
  const a = assertVaultAddress(address)
  return a.match(/.{4}/g)!.join('-')
}

/** The alphabet of vault addresses, in value order. */
export const VAULT_ADDRESS_ALPHABET = ALPHABET
