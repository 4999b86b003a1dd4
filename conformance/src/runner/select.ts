/** Which assertions a run executes, and which are INAPPLICABLE. */
import type { Assertion } from '../assertions/assertion.js'
import type { Profile } from '../types.js'

/** `*` and `?` make a glob over the id; otherwise a case-insensitive substring of id or description. */
export function matchesFilter(a: Assertion, filter: string | undefined): boolean {
  if (!filter) return true
  return filter.split(',').some((f) => {
    const term = f.trim()
    if (!term) return false
    if (/[*?]/.test(term)) {
      const re = new RegExp('^' + term.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 'i')
      return re.test(a.id)
    }
    return a.id.toLowerCase().includes(term.toLowerCase()) || a.requirements.some((r) => r.toLowerCase() === term.toLowerCase())
  })
}

export interface Selection {
  assertion: Assertion
  /** Why it will not run, or undefined when it runs. */
  inapplicable?: string
}

export function select(all: readonly Assertion[], profile: Profile, features: string[], filter?: string): Selection[] {
  return all
    .filter((a) => matchesFilter(a, filter))
    .map((assertion) => {
      if (assertion.profile !== profile) return { assertion, inapplicable: `profile ${assertion.profile}; the target is tested as ${profile}` }
      const missing = (assertion.features ?? []).filter((f) => !features.includes(f))
      if (missing.length) return { assertion, inapplicable: `optional feature ${missing.join(', ')} not declared in the config` }
      return { assertion }
    })
}
