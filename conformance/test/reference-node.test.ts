/**
 * The suite against the REFERENCE NODE, started the way server/README.md
 * says (`node server/dist/bin/timbre.js start`) on a free port and a
 * temporary PGlite data dir — or a fresh database on the DATABASE_URL
 * PostgreSQL server. The suite sets itself up through the admin API
 * (admin.token): it is admitted as routing node and directory, opens test
 * vault accounts, and for the routing-node profile plays the vault operator
 * behind the node (admitted, its addresses PUT into the node's directory)
 * and the sender's webhook receiver. Every profile must pass: no FAIL and
 * no ERROR; a WARN only for a SHOULD (printed).
 */
import t from 'tap'
import { runSuite, type Profile } from '../src/index.js'
import { startReferenceNode } from './helpers/reference-node.js'

const PROFILES: Profile[] = ['vault-operator', 'routing-node', 'directory']

t.test('reference node passes every profile', async (t) => {
  // A short objection window (the spec allows 0..86400 s) lets the suite observe objections and cut-overs in one run.
  const node = await startReferenceNode({ TIMBRE_OBJECTION_WINDOW_SECONDS: '3' })
  t.teardown(() => node.stop())
  t.comment(`reference node at ${node.url} on ${node.database}`)
  for (const profile of PROFILES) {
    await t.test(profile, async (t) => {
      const started = Date.now()
      const report = await runSuite({ target: node.url, profile, features: ['portability'], admin: { token: node.adminToken } })
      const elapsed = Date.now() - started
      const ran = report.outcomes.filter((o) => o.profile === profile)
      const c = { PASS: 0, FAIL: 0, WARN: 0, INAPPLICABLE: 0, ERROR: 0 }
      for (const o of ran) c[o.status]++
      t.comment(`${profile}: ${ran.length} assertions in ${elapsed} ms — ${c.PASS} PASS, ${c.WARN} WARN, ${c.INAPPLICABLE} INAPPLICABLE, ${c.FAIL} FAIL, ${c.ERROR} ERROR`)
      for (const o of ran.filter((o) => o.status === 'WARN' || o.status === 'INAPPLICABLE')) t.comment(`  ${o.status} ${o.id}: ${o.message}`)
      const bad = ran.filter((o) => o.status === 'FAIL' || o.status === 'ERROR' || (o.status === 'WARN' && o.level !== 'SHOULD'))
      for (const o of bad) t.fail(`${o.id} ${o.status}: ${o.message}`, { diagnostics: o.diagnostics, exchanges: o.exchanges.slice(-2) })
      t.ok(report.passed, `${profile}: CONFORMANT`)
      t.ok(c.PASS >= (profile === 'vault-operator' ? 60 : 15), `${c.PASS} assertions passed`)
      t.ok(report.outcomes.filter((o) => o.profile !== profile).every((o) => o.status === 'INAPPLICABLE'), 'other profiles are INAPPLICABLE, never PASS')
      if (profile === 'vault-operator') t.ok(elapsed < 120_000, `the vault-operator profile ran in ${elapsed} ms (limit 2 minutes)`)
    })
  }
})

// Metering needs a node that charges: a second reference node with a stamp price
// (TIMBRE_STAMP_PRICE_STANDARD), the routing-node profile with feature metering.
t.test('reference node passes the metering assertions when it charges', async (t) => {
  const node = await startReferenceNode({ TIMBRE_STAMP_PRICE_STANDARD: '7' })
  t.teardown(() => node.stop())
  const report = await runSuite({ target: node.url, profile: 'routing-node', features: ['metering'], admin: { token: node.adminToken }, filter: 'metering' })
  const ran = report.outcomes.filter((o) => o.profile === 'routing-node')
  t.ok(ran.length >= 4, `${ran.length} metering assertions ran`)
  // This node sells no registered stamp: the registered refund is the next test's.
  for (const o of ran) {
    const expected = o.id === 'router.metering.registered-refund' ? 'INAPPLICABLE' : 'PASS'
    if (o.status !== expected) t.fail(`${o.id} ${o.status}: ${o.message}`, { exchanges: o.exchanges.slice(-2) })
  }
  t.ok(report.passed, 'routing-node + metering: CONFORMANT')
})

// TMB-MTR-005: a node selling both classes, the suite's vault announcing no
// `handover`: a registered deposit refunds the difference.
t.test('reference node refunds the registered surcharge for a vault without handover', async (t) => {
  const node = await startReferenceNode({ TIMBRE_STAMP_PRICE_STANDARD: '7', TIMBRE_STAMP_PRICE_REGISTERED: '19' })
  t.teardown(() => node.stop())
  const report = await runSuite({ target: node.url, profile: 'routing-node', features: ['metering'], admin: { token: node.adminToken }, filter: 'router.metering.registered-refund' })
  const ran = report.outcomes.filter((o) => o.profile === 'routing-node')
  t.equal(ran.length, 1, 'the registered-refund assertion ran')
  for (const o of ran) if (o.status !== 'PASS') t.fail(`${o.id} ${o.status}: ${o.message}`, { diagnostics: o.diagnostics, exchanges: o.exchanges.slice(-2) })
  t.ok(report.passed, 'routing-node + metering, registered class: CONFORMANT')
})
