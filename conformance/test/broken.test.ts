/**
 * The suite must catch every deliberately broken vault on exactly the
 * assertion ids of expected-failures.json: a missing expected failure fails
 * the test, and so does an unexpected pass or an unexpected failure.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { runSuite } from '../src/index.js'
import { startVault, SUITE_OPERATOR } from './helpers/vault.js'
import { VARIANTS } from './broken/variants.js'

const expected: Record<string, string[]> = JSON.parse(readFileSync(new URL('./expected-failures.json', import.meta.url), 'utf8'))
// Assertions that already fail against the unbroken reference vault (its known gaps).
const knownGaps = Object.keys(JSON.parse(readFileSync(new URL('./reference-known-gaps.json', import.meta.url), 'utf8')))

t.same(Object.keys(expected).sort(), Object.keys(VARIANTS).sort(), 'every variant has its expected failures, and only those')

for (const [name, wrap] of Object.entries(VARIANTS)) {
  t.test(name, async (t) => {
    const vault = await startVault(wrap)
    t.teardown(() => vault.close())
    const report = await runSuite({ target: vault.url, profile: 'vault-operator', suite: { operatorId: SUITE_OPERATOR, key: vault.suiteKey }, vault: { addresses: vault.addresses }, features: ['portability'], portability: { moved: vault.moved } })
    const failed = new Set(report.outcomes.filter((o) => o.status === 'FAIL' || o.status === 'WARN' && o.level === 'MUST').map((o) => o.id))
    const errored = report.outcomes.filter((o) => o.status === 'ERROR')
    t.same(errored.map((o) => `${o.id}: ${o.message}`), [], 'no assertion errored')
    const want = expected[name] ?? []
    t.ok(want.length > 0, 'the variant has at least one expected failure')
    for (const id of want) t.ok(failed.has(id), `expected failure ${id}`, { outcome: report.outcomes.find((o) => o.id === id)?.status })
    for (const id of failed) if (!want.includes(id) && !knownGaps.includes(id)) t.fail(`unexpected failure ${id}: ${report.outcomes.find((o) => o.id === id)?.message}`)
    t.notOk(report.passed, 'the broken vault is NOT CONFORMANT')
  })
}
