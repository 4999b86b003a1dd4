/**
 * Every MUST / MUST NOT of spec/requirements.json is cited by an assertion
 * or listed in exemptions.json with a reason; nothing cites an id that does
 * not exist. Exemptions of kind "pending" are testable requirements whose
 * assertions are not written yet: they are reported, so the list only shrinks.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { loadRequirements } from '@timbre/spec'
import { ASSERTIONS } from '../src/index.js'

const requirements = loadRequirements().requirements
const known = new Set(requirements.map((r) => r.id))
const exemptions: Array<{ id: string; reason: string; kind: 'unobservable' | 'pending' }> = JSON.parse(readFileSync(new URL('../exemptions.json', import.meta.url), 'utf8'))
const cited = new Set(ASSERTIONS.flatMap((a) => a.requirements))
const exempt = new Map(exemptions.map((e) => [e.id, e]))

t.test('every assertion cites existing requirement ids', async (t) => {
  for (const a of ASSERTIONS) {
    t.ok(a.requirements.length > 0, `${a.id} cites at least one requirement`)
    for (const id of a.requirements) if (!known.has(id)) t.fail(`${a.id} cites ${id}, which is not in spec/requirements.json`)
  }
})

t.test('every exemption names an existing, uncited requirement with a reason', async (t) => {
  t.equal(exempt.size, exemptions.length, 'no requirement is exempted twice')
  for (const e of exemptions) {
    if (!known.has(e.id)) t.fail(`exemption ${e.id} is not in spec/requirements.json`)
    if (cited.has(e.id)) t.fail(`${e.id} is exempted but an assertion cites it: remove the exemption`)
    t.ok(typeof e.reason === 'string' && e.reason.length >= 20, `${e.id} has a reason`)
    t.ok(e.kind === 'unobservable' || e.kind === 'pending', `${e.id} has kind unobservable or pending`)
  }
})

t.test('every MUST is covered or exempted', async (t) => {
  const musts = requirements.filter((r) => r.level === 'MUST' || r.level === 'MUST NOT')
  const missing = musts.filter((r) => !cited.has(r.id) && !exempt.has(r.id))
  t.same(missing.map((r) => `${r.id} (${r.roles.join(', ')}): ${r.text.slice(0, 100)}`), [], 'uncovered MUST requirements')
  const pending = exemptions.filter((e) => e.kind === 'pending').length
  t.comment(`${musts.filter((r) => cited.has(r.id)).length} MUSTs covered, ${exemptions.length - pending} unobservable, ${pending} pending assertions`)
})
