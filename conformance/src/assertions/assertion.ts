/** The shape of one assertion of the suite. */
import type { AssertionLevel, Profile } from '../types.js'
import type { AssertionContext } from '../runner/context.js'

export interface Assertion {
  /** Stable id, e.g. `vault.relay.accept`. Never reused for another check. */
  id: string
  /** One line. */
  description: string
  /** Requirement ids (`TMB-<AREA>-<NNN>`) of spec/requirements.json this assertion observes. */
  requirements: string[]
  /** MUST: a FAIL breaks conformance. SHOULD: a miss is a WARN. */
  level: AssertionLevel
  profile: Profile
  /** Optional features the target must declare; otherwise INAPPLICABLE. */
  features?: string[]
  run(ctx: AssertionContext): Promise<void>
}

export function defineAssertion(a: Assertion): Assertion {
  return a
}
