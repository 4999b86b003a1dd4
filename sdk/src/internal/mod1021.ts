// The MOD 1021-32 check rule shared by vault addresses and porting codes
// (TMB-ADDR, TMB-PORT-002): a string of the Crockford alphabet read in base
// 32 must be congruent to 1 modulo 1021.
export const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
export const MODULUS = 1021
export const VALUE: Record<string, number> = Object.fromEntries([...ALPHABET].map((c, i) => [c, i]))

export function inAlphabet(s: string): boolean {
  for (const c of s) if (!(c in VALUE)) return false
  return true
}

export function modValue(chars: string): number {
  let n = 0
  for (const c of chars) n = (n * 32 + VALUE[c]!) % MODULUS
  return n
}

/** The two check characters that make `prefix ‖ check` ≡ 1 (mod 1021). */
export function checkChars(prefix: string): string {
  const p = modValue(prefix)
  const c = (((1 - p * 1024) % MODULUS) + MODULUS) % MODULUS
  return ALPHABET[Math.floor(c / 32)]! + ALPHABET[c % 32]!
}

export function randomChars(bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += ALPHABET[b & 31]
  return s
}
