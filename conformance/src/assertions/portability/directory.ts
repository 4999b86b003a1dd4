/** Directory side of portability (9.2-9.4), feature `portability`. */
import { generateVaultAddress, issuePortingCode, peekDirectoryLine } from '@timbre/sdk'
import { defineAssertion } from '../assertion.js'
import { expectProblem } from '../problem.js'
import type { AssertionContext as Ctx } from '../../runner/context.js'
import { directoryBase, donorCode, pendingPort, portRequest, registerCode, servedAddress, signed, sleep, suiteOperator } from './kit.js'

const F = ['portability']

/** The operator of the line the target's directory serves now for an address. */
async function servedBy(ctx: Ctx, address: string): Promise<string | undefined> {
  const r = await ctx.http.send(`${await directoryBase(ctx)}/addresses/${address}`)
  return r.status === 200 && typeof r.json?.line === 'string' ? peekDirectoryLine(r.json.line)?.operator : undefined
}

/** Spoil the check characters of a code. */
function badCheck(code: string): string {
  const last = code[11] === '0' ? '1' : '0'
  return code.slice(0, 11) + last
}

export const portabilityDirectoryAssertions = [
  defineAssertion({
    id: 'directory.port.code-registration',
    description: 'A porting code is registered (201) only by the operator serving the address; anyone else gets 409 directory-conflict',
    requirements: ['TMB-PORT-004', 'TMB-PORT-003'],
    level: 'MUST',
    profile: 'directory',
    features: F,
    async run(ctx: Ctx) {
      const donor = await suiteOperator(ctx, 'donor')
      const newOp = await suiteOperator(ctx, 'new')
      const address = await servedAddress(ctx, donor)
      const code = issuePortingCode(address)
      expectProblem(ctx, await registerCode(ctx, newOp, address, code), 'directory-conflict')
      const ok = await registerCode(ctx, donor, address, code)
      ctx.check(ok.status === 201, `the serving operator's registration answered ${ok.status} ${ok.json?.code ?? ''}, expected 201`)
      // A newer code invalidates the earlier unused one (PORT-004).
      await donorCode(ctx, donor, address)
      expectProblem(ctx, await portRequest(ctx, newOp, address, code), 'porting-code-invalid')
    },
  }),
  defineAssertion({
    id: 'directory.port.request-checks',
    description: 'Port requests are checked in the order of 9.3 with the exact codes: sender-mismatch, recipient-unknown, directory-conflict, porting-code-invalid/-expired/-used, port-already-pending',
    requirements: ['TMB-PORT-009', 'TMB-PORT-006', 'TMB-PORT-015', 'TMB-PORT-002', 'TMB-ERR-005'],
    level: 'MUST',
    profile: 'directory',
    features: F,
    async run(ctx: Ctx) {
      const donor = await suiteOperator(ctx, 'donor')
      const newOp = await suiteOperator(ctx, 'new')
      const address = await servedAddress(ctx, donor)
      const code = await donorCode(ctx, donor, address)
      // Each request fails two checks at once: the earlier one must answer.
      expectProblem(ctx, await portRequest(ctx, newOp, generateVaultAddress(), 'NOTACODE0000', donor.id), 'sender-mismatch')
      expectProblem(ctx, await portRequest(ctx, newOp, generateVaultAddress(), badCheck(code)), 'recipient-unknown')
      expectProblem(ctx, await portRequest(ctx, donor, address, badCheck(code)), 'directory-conflict')
      expectProblem(ctx, await portRequest(ctx, newOp, address, badCheck(code)), 'porting-code-invalid')
      expectProblem(ctx, await portRequest(ctx, newOp, address, issuePortingCode(address)), 'porting-code-invalid')
      // Expiry: a code registered to expire in a moment.
      const other = await servedAddress(ctx, donor)
      const short = issuePortingCode(other)
      const reg = await registerCode(ctx, donor, other, short, new Date(Date.now() + 1500))
      ctx.check(reg.status === 201, `registration of a short-lived code answered ${reg.status} ${reg.json?.code ?? ''}`)
      await sleep(1700)
      expectProblem(ctx, await portRequest(ctx, newOp, other, short), 'porting-code-expired')
      // A valid request, then the same code again, then a fresh code while the port is pending.
      const ok = await portRequest(ctx, newOp, address, code)
      ctx.check(ok.status === 201, `a valid port request answered ${ok.status} ${ok.json?.code ?? ''} ${ok.json?.detail ?? ''}, expected 201`)
      expectProblem(ctx, await portRequest(ctx, newOp, address, code), 'porting-code-used')
      let again: string | undefined
      if (ok.json?.status === 'pending' && Date.parse(ok.json.cutoverAt) > Date.now() + 300) {
        again = await donorCode(ctx, donor, address)
        expectProblem(ctx, await portRequest(ctx, newOp, address, again), 'port-already-pending')
      } else ctx.note('the objection window is too short to observe port-already-pending (the port completed at once)')
      // ERR-005: no answer reveals a porting code or a stack trace.
      const codes = [code, badCheck(code), short, ...(again ? [again] : [])]
      for (const e of ctx.exchanges) {
        const text = e.responseBody ?? ''
        for (const c of codes) ctx.check(!text.includes(c), `the answer to ${e.method} ${e.url} (${e.status}) reveals the porting code ${c}`)
        ctx.check(!/\n\s+at [^\n]+:\d+:\d+/.test(text), `the answer to ${e.method} ${e.url} (${e.status}) carries a stack trace`)
      }
    },
  }),
  defineAssertion({
    id: 'directory.port.record',
    description: 'A new port is pending with cutoverAt = objectionDeadline within 0..86400 s; its record is served to donor and new operator only, never with the code',
    requirements: ['TMB-PORT-011', 'TMB-PORT-012', 'TMB-PORT-014', 'TMB-PORT-013'],
    level: 'MUST',
    profile: 'directory',
    features: F,
    async run(ctx: Ctx) {
      const { donor, newOp, port, code } = await pendingPort(ctx)
      ctx.check(typeof port?.portId === 'string', 'the 201 answer has no portId')
      ctx.check(port.objectionDeadline === port.cutoverAt, `objectionDeadline ${port.objectionDeadline} ≠ cutoverAt ${port.cutoverAt}`)
      const window = (Date.parse(port.objectionDeadline) - Date.parse(port.requestedAt)) / 1000
      ctx.check(window >= 0 && window <= 86_400, `the objection window is ${window} s, outside 0..86400`)
      ctx.check(port.donor === donor.id && port.recipientOperator === newOp.id, `the port names donor ${port.donor} and new operator ${port.recipientOperator}`)
      ctx.check(!JSON.stringify(port).includes(code), 'the port record contains the porting code')
      for (const who of [donor, newOp]) {
        const r = await signed(ctx, who, 'GET', `/ports/${port.portId}`)
        ctx.check(r.status === 200 && r.json?.portId === port.portId, `GET the port as ${who.id} answered ${r.status}`)
        ctx.check(!r.text.includes(code), 'the port record contains the porting code')
        const l = await signed(ctx, who, 'GET', '/ports')
        ctx.check(l.status === 200 && Array.isArray(l.json?.ports) && l.json.ports.some((p: any) => p.portId === port.portId), `GET /ports as ${who.id} does not list the port`)
      }
      const third = await suiteOperator(ctx, 'third')
      expectProblem(ctx, await signed(ctx, third, 'GET', `/ports/${port.portId}`), 'not-found')
    },
  }),
  defineAssertion({
    id: 'directory.port.objection',
    description: 'Only the donor may object, within the deadline: 403 port-objection-forbidden to others, 409 port-objection-closed afterwards; the donor line stays',
    requirements: ['TMB-PORT-016', 'TMB-PORT-017'],
    level: 'MUST',
    profile: 'directory',
    features: F,
    async run(ctx: Ctx) {
      const { donor, newOp, port, address } = await pendingPort(ctx)
      const body = { reason: { code: 'vault-inactive' } }
      expectProblem(ctx, await signed(ctx, newOp, 'POST', `/ports/${port.portId}/objection`, body), ['port-objection-forbidden'])
      if (Date.parse(port.cutoverAt) > Date.now() + 300) {
        const r = await signed(ctx, donor, 'POST', `/ports/${port.portId}/objection`, body)
        if (r.status === 400) ctx.harness(`the objection reason was refused: ${r.json?.detail}`)
        ctx.check(r.status === 200 && r.json?.status === 'objected', `the donor's objection answered ${r.status} ${r.json?.code ?? r.json?.status}`)
        const served = await servedBy(ctx, address)
        ctx.check(served === donor.id, `after the objection the address is served by ${served}, expected the donor`)
      } else ctx.note('objection window 0: only the closed case is observable')
      expectProblem(ctx, await signed(ctx, donor, 'POST', `/ports/${port.portId}/objection`, body), 'port-objection-closed')
    },
  }),
  defineAssertion({
    id: 'directory.port.cancellation',
    description: 'Only the new operator may cancel before cut-over: 403 port-cancel-forbidden to others, 409 port-not-cancellable afterwards; the code stays used',
    requirements: ['TMB-PORT-019', 'TMB-PORT-020'],
    level: 'MUST',
    profile: 'directory',
    features: F,
    async run(ctx: Ctx) {
      const { donor, newOp, port, address, code } = await pendingPort(ctx)
      expectProblem(ctx, await signed(ctx, donor, 'POST', `/ports/${port.portId}/cancellation`, {}), 'port-cancel-forbidden')
      if (Date.parse(port.cutoverAt) > Date.now() + 300) {
        const r = await signed(ctx, newOp, 'POST', `/ports/${port.portId}/cancellation`, {})
        ctx.check(r.status === 200 && r.json?.status === 'cancelled', `the new operator's cancellation answered ${r.status} ${r.json?.code ?? r.json?.status}`)
        expectProblem(ctx, await portRequest(ctx, newOp, address, code), 'porting-code-used')
      } else ctx.note('objection window 0: only the closed case is observable')
      expectProblem(ctx, await signed(ctx, newOp, 'POST', `/ports/${port.portId}/cancellation`, {}), 'port-not-cancellable')
    },
  }),
  defineAssertion({
    id: 'directory.port.cutover',
    description: 'Without objection the port completes at cutoverAt and the address is then served by the new operator',
    requirements: ['TMB-PORT-018', 'TMB-PORT-032', 'TMB-PORT-011'],
    level: 'MUST',
    profile: 'directory',
    features: F,
    async run(ctx: Ctx) {
      const { newOp, port, address } = await pendingPort(ctx)
      const wait = Date.parse(port.cutoverAt) - Date.now()
      if (wait > 20_000) ctx.inapplicable(`the objection window ends in ${Math.round(wait / 1000)} s; the suite waits at most 20 s for a cut-over`)
      await sleep(Math.max(0, wait) + 300)
      const r = await signed(ctx, newOp, 'GET', `/ports/${port.portId}`)
      ctx.check(r.json?.status === 'completed', `after cutoverAt the port is ${r.json?.status}, expected completed`)
      const served = await servedBy(ctx, address)
      ctx.check(served === newOp.id, `after cut-over the address is served by ${served}, expected ${newOp.id}`)
    },
  }),
]
