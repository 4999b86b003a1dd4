import t from 'tap'
import {
  VAULT_ADDRESS_ALPHABET as A,
  assertVaultAddress,
  formatVaultAddress,
  generateVaultAddress,
  isValidVaultAddress,
  normalizeVaultAddress,
  parseVaultAddress,
  vaultAddressFromPayload,
  TimbreError,
} from '../src/index.js'

t.test('generated addresses are valid and 16 characters', async (t) => {
  for (let i = 0; i < 1000; i++) {
    const a = generateVaultAddress()
    t.equal(a.length, 16)
    if (!isValidVaultAddress(a)) t.fail(`invalid ${a}`)
  }
})

t.test('every single substitution and adjacent transposition is caught (exhaustive over 200 addresses)', async (t) => {
  let substitutions = 0
  let transpositions = 0
  const addrs = [vaultAddressFromPayload('00000000000000'), vaultAddressFromPayload('ZZZZZZZZZZZZZZ'), ...Array.from({ length: 198 }, generateVaultAddress)]
  for (const a of addrs) {
    for (let i = 0; i < 16; i++) {
      for (const c of A) {
        if (c === a[i]) continue
        const typo = a.slice(0, i) + c + a.slice(i + 1)
        substitutions++
        if (isValidVaultAddress(typo)) t.fail(`substitution not caught: ${a} -> ${typo}`)
      }
      if (i < 15 && a[i] !== a[i + 1]) {
        const typo = a.slice(0, i) + a[i + 1] + a[i] + a.slice(i + 2)
        transpositions++
        if (isValidVaultAddress(typo)) t.fail(`transposition not caught: ${a} -> ${typo}`)
      }
    }
  }
  t.ok(substitutions > 90_000, `${substitutions} substitutions checked`)
  t.ok(transpositions > 2_500, `${transpositions} transpositions checked`)
})

t.test('normalisation, display form and reasons', async (t) => {
  const a = vaultAddressFromPayload('K7QM3X9R2VHD8P')
  const shown = formatVaultAddress(a)
  t.match(shown, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/)
  t.equal(normalizeVaultAddress(` ${shown.toLowerCase()} `), a)
  t.equal(assertVaultAddress(shown.replace(/-/g, ' ')), a)
  // Crockford aliases map O->0 and I/L->1
  const withZero = vaultAddressFromPayload('10000000000000')
  t.equal(parseVaultAddress(withZero.replace(/0/g, 'O').replace(/1/g, 'I')).valid, true)
  t.same(parseVaultAddress('ABC'), { valid: false, reason: 'length' })
  t.same(parseVaultAddress('UUUUUUUUUUUUUUUU'), { valid: false, reason: 'character' })
  const typo = (a[0] === '0' ? '1' : '0') + a.slice(1)
  t.same(parseVaultAddress(typo), { valid: false, reason: 'check' })
  t.throws(() => assertVaultAddress(typo), TimbreError)
  try {
    assertVaultAddress(typo)
  } catch (err) {
    t.equal((err as TimbreError).code, 'invalid-vault-address')
    t.equal((err as TimbreError).status, 400)
  }
})
