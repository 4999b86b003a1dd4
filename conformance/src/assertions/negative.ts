/** A compact way to define "send this faulty relay, expect that code" assertions. */
import type { ErrorCode } from '@timbre/sdk'
import { defineAssertion, type Assertion } from './assertion.js'
import { expectProblem } from './problem.js'
import { postRelay, validParts, relayBody, type RelayParts, type PostOptions } from './relay-kit.js'
import type { AssertionContext } from '../runner/context.js'

export interface SpoiltRelay {
  body: Record<string, unknown> | string | Uint8Array
  options?: PostOptions
}

export function negativeRelay(a: {
  id: string
  description: string
  requirements: string[]
  expect: ErrorCode | ErrorCode[]
  spoil: (ctx: AssertionContext, parts: RelayParts) => Promise<SpoiltRelay | Record<string, unknown>>
}): Assertion {
  return defineAssertion({
    id: a.id,
    description: a.description,
    requirements: a.requirements,
    level: 'MUST',
    profile: 'vault-operator',
    async run(ctx: AssertionContext) {
      const parts = await validParts(ctx)
      const spoilt = await a.spoil(ctx, parts)
      const s: SpoiltRelay = 'body' in spoilt && Object.keys(spoilt).every((k) => k === 'body' || k === 'options') ? (spoilt as SpoiltRelay) : { body: spoilt as Record<string, unknown> }
      const res = await postRelay(ctx, s.body, s.options ?? {})
      expectProblem(ctx, res, a.expect)
    },
  })
}

export { relayBody }
