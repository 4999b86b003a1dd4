/** Vault side of portability (donor after cut-over), feature `portability`. */
import { defineAssertion } from '../assertion.js'
import { expectProblem } from '../problem.js'
import { postRelay, relayBody, validParts, expectDeposit, routeFor } from '../relay-kit.js'
import type { AssertionContext as Ctx } from '../../runner/context.js'
import { portRequest, sleep, suiteOperator } from './kit.js'

const F = ['portability']
const MAX_WAIT_MS = 15_000

/**
 * An address of the target that moves: from config (`portability.moved`,
 * e.g. a test vault whose account was scheduled to move) or, with the admin
 * convenience on a target that is its own directory, a port the suite files
 * as new operator for an account the target opens and issues a code for.
 * `before` runs while the target still serves the address.
 */
async function movedAddress(ctx: Ctx, before: (address: string) => Promise<void>): Promise<{ address: string; operator: string; cutoverAt: number }> {
  const moved = ctx.config.portability?.moved
  if (moved) {
    await routeFor(ctx, moved.address)
    const cutoverAt = Date.parse(moved.cutoverAt ?? new Date(0).toISOString())
    if (cutoverAt > Date.now() + 1000) await before(moved.address)
    else ctx.note('the configured move took effect before this assertion ran: the deposit-before-cut-over part is skipped')
    return { address: moved.address, operator: moved.operator, cutoverAt }
  }
  const t = await ctx.target()
  if (!ctx.config.admin?.token || typeof t.discovery.endpoints?.directory !== 'string') {
    ctx.inapplicable('no moved address: set portability.moved in the config, or admin.token on a target that is its own directory')
  }
  const headers = { authorization: `Bearer ${ctx.config.admin!.token}`, 'content-type': 'application/json' }
  const opened = await ctx.http.send(`${ctx.config.target}/v1/admin/vault-addresses`, { method: 'POST', headers, body: '{}' })
  if (typeof opened.json?.address !== 'string') ctx.harness(`admin: open vault account answered ${opened.status}`)
  const address: string = opened.json.address
  await routeFor(ctx, address)
  await before(address)
  const issued = await ctx.http.send(`${ctx.config.target}/v1/admin/vault-addresses/${address}/porting-code`, { method: 'POST', headers, body: '{}' })
  if (typeof issued.json?.code !== 'string') ctx.harness(`admin: issue porting code answered ${issued.status} ${issued.json?.code ?? ''}`)
  const newOp = await suiteOperator(ctx, 'new')
  const port = await portRequest(ctx, newOp, address, issued.json.code)
  if (port.status !== 201) ctx.harness(`the suite's port request (as new operator) answered ${port.status} ${port.json?.code ?? ''} ${port.json?.detail ?? ''}`)
  return { address, operator: newOp.id, cutoverAt: Date.parse(port.json.cutoverAt) }
}

export const portabilityVaultAssertions = [
  defineAssertion({
    id: 'vault.port.recipient-moved',
    description: 'After cut-over a relay for a moved address is answered 409 recipient-moved naming the new operator, while a repeat of a document deposited before still answers 200 with the original evidence',
    requirements: ['TMB-RLY-011', 'TMB-RLY-012', 'TMB-PORT-023', 'TMB-PORT-021'],
    level: 'MUST',
    profile: 'vault-operator',
    features: F,
    async run(ctx: Ctx) {
      let deposited: { body: Record<string, unknown>; parts: Awaited<ReturnType<typeof validParts>>; evidenceId: string } | undefined
      const m = await movedAddress(ctx, async (address) => {
        const parts = await validParts(ctx, { recipient: address })
        const body = relayBody(parts)
        const { evidence } = await expectDeposit(ctx, await postRelay(ctx, body), parts, [201])
        deposited = { body, parts, evidenceId: evidence.evidenceId }
      })
      const wait = m.cutoverAt - Date.now()
      if (wait > MAX_WAIT_MS) ctx.inapplicable(`the cut-over is ${Math.round(wait / 1000)} s away; the suite waits at most ${MAX_WAIT_MS / 1000} s`)
      await sleep(Math.max(0, wait) + 250)
      const p = await validParts(ctx, { recipient: m.address })
      const problem = expectProblem(ctx, await postRelay(ctx, relayBody(p)), 'recipient-moved')
      ctx.check(problem.operator === m.operator, `the recipient-moved problem names operator ${JSON.stringify(problem.operator)}, expected ${m.operator}`)
      if (deposited) {
        const again = await postRelay(ctx, deposited.body)
        const { evidence } = await expectDeposit(ctx, again, deposited.parts, [200])
        ctx.check(evidence.evidenceId === deposited.evidenceId, `the repeat after cut-over got evidence ${evidence.evidenceId}, not the original ${deposited.evidenceId}`)
      }
    },
  }),
]
