/** Checks of RFC 9457 problem answers against the error catalogue. */
import { ERROR_CATALOG, PROBLEM_TYPE_BASE, isErrorCode, verifyEvidence, type ErrorCode } from '@timbre/sdk'
import type { HttpResponse } from '../http.js'
import type { AssertionContext } from '../runner/context.js'

/** Problems about the problem body itself (empty when it is well-formed). */
export function problemShapeErrors(res: HttpResponse): string[] {
  const errors: string[] = []
  const ct = (res.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  if (ct !== 'application/problem+json') errors.push(`Content-Type is "${res.headers['content-type'] ?? ''}", not application/problem+json`)
  const b = res.json
  if (!b || typeof b !== 'object' || Array.isArray(b)) {
    errors.push('the body is not a JSON object')
    return errors
  }
  if (!isErrorCode(b.code) || ERROR_CATALOG[b.code as ErrorCode].local) {
    errors.push(`code ${JSON.stringify(b.code)} is not a wire error code of the catalogue`)
    return errors
  }
  const info = ERROR_CATALOG[b.code as ErrorCode]
  if (b.type !== PROBLEM_TYPE_BASE + b.code) errors.push(`type is ${JSON.stringify(b.type)}, expected ${PROBLEM_TYPE_BASE + b.code}`)
  if (typeof b.title !== 'string' || !b.title) errors.push('title is missing')
  if (b.status !== res.status) errors.push(`status member ${JSON.stringify(b.status)} differs from the HTTP status ${res.status}`)
  if (res.status !== info.status) errors.push(`HTTP status ${res.status} differs from the catalogue status ${info.status} of ${b.code}`)
  if (b.retryable !== info.retryable) errors.push(`retryable is ${JSON.stringify(b.retryable)}, the catalogue says ${info.retryable}`)
  return errors
}

/**
 * Require a problem answer with one of the given codes; the HTTP status is the
 * catalogue's. Returns the problem body.
 */
export function expectProblem(ctx: AssertionContext, res: HttpResponse, codes: ErrorCode | ErrorCode[]): any {
  const want = Array.isArray(codes) ? codes : [codes]
  const statuses = [...new Set(want.map((c) => ERROR_CATALOG[c].status))]
  const label = want.map((c) => `${ERROR_CATALOG[c].status} ${c}`).join(' or ')
  if (!statuses.includes(res.status)) {
    const code = res.json?.code ? ` ${res.json.code}` : ''
    ctx.fail(`expected ${label}, got ${res.status}${code}`)
  }
  const shape = problemShapeErrors(res)
  if (shape.length) ctx.fail(`expected ${label}; the answer is not a valid problem: ${shape.join('; ')}`)
  if (!want.includes(res.json.code)) ctx.fail(`expected ${label}, got ${res.status} ${res.json.code}`)
  return res.json
}

/** Verify the optional DepositRejection evidence of a refusal (WARN-level, RLY-017). */
export async function checkRejectionEvidence(ctx: AssertionContext, problem: any, messageId: string): Promise<'absent' | 'valid'> {
  if (problem.evidence === undefined) return 'absent'
  const t = await ctx.target()
  try {
    const ev = await verifyEvidence(problem.evidence, t.keys, { event: 'DepositRejection', messageId, issuer: t.operatorId })
    if (ev.reason?.code !== problem.code) ctx.fail(`DepositRejection reason.code is ${ev.reason?.code}, the problem code is ${problem.code}`)
  } catch (err) {
    ctx.fail(`the problem carries evidence that does not verify with the target's JWKS: ${(err as Error).message}`)
  }
  return 'valid'
}
