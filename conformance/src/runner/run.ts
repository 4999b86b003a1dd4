/** Executes the selected assertions one after the other and records outcomes. */
import { SPEC_VERSION } from '@timbre/spec'
import { toPublicJwk, type PrivateJwk, type PublicJwk } from '@timbre/sdk'
import { ASSERTIONS } from '../assertions/index.js'
import type { Assertion } from '../assertions/assertion.js'
import { AssertionContext, RunState } from './context.js'
import { select } from './select.js'
import { AssertionFailure, AssertionWarning, HarnessError, Inapplicable, type Exchange, type Outcome, type OutcomeStatus, type SuiteConfig } from '../types.js'
import { SUITE_VERSION } from '../version.js'

export interface Counts {
  total: number
  PASS: number
  FAIL: number
  WARN: number
  INAPPLICABLE: number
  ERROR: number
}

export interface RunReport {
  suite: { name: '@timbre/conformance'; version: string }
  specVersion: string
  target: string
  profile: string
  features: string[]
  operatorId?: string
  run: { startedAt: string; endedAt: string; durationMs: number; node: string; platform: string; filter?: string }
  config: Record<string, unknown>
  runner: { operatorId: string; publicKey: PublicJwk }
  setup: Exchange[]
  counts: Counts
  /** True when no MUST-level assertion failed or errored. */
  passed: boolean
  outcomes: Outcome[]
}

export interface RunHooks {
  onStart?(total: number): void
  onOutcome?(o: Outcome, index: number, total: number): void
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new HarnessError(`the assertion did not finish within ${ms} ms`)), ms)
    }),
  ])
}

export function publicConfig(c: SuiteConfig): Record<string, unknown> {
  return {
    target: c.target,
    profile: c.profile,
    features: c.features,
    operatorId: c.operatorId,
    suite: { operatorId: c.suite.operatorId, keyFile: c.suite.keyFile },
    vault: c.vault,
    sender: c.sender ? { id: c.sender.id, keyFile: c.sender.keyFile } : undefined,
    admin: c.admin ? { token: '(redacted)' } : undefined,
    timeoutMs: c.timeoutMs,
    specBaseUrl: c.specBaseUrl,
  }
}

async function runOne(a: Assertion, state: RunState): Promise<Outcome> {
  const ctx = new AssertionContext(state)
  const started = performance.now()
  let status: OutcomeStatus = 'PASS'
  let message: string | undefined
  let diagnostics: string | undefined
  try {
    await withTimeout(a.run(ctx), state.config.timeoutMs * 3)
  } catch (err) {
    if (err instanceof AssertionFailure) {
      status = a.level === 'SHOULD' ? 'WARN' : 'FAIL'
      message = err.message
    } else if (err instanceof AssertionWarning) {
      status = 'WARN'
      message = err.message
    } else if (err instanceof Inapplicable) {
      status = 'INAPPLICABLE'
      message = err.message
    } else {
      status = 'ERROR'
      message = err instanceof HarnessError ? err.message : `${(err as Error)?.name ?? 'Error'}: ${(err as Error)?.message ?? String(err)}`
      if (!(err instanceof HarnessError)) diagnostics = (err as Error)?.stack
      const failedSetup = state.setupExchanges.filter((e) => e.error || (e.status ?? 0) >= 400)
      if (failedSetup.length) diagnostics = [diagnostics, `set-up exchanges: ${JSON.stringify(failedSetup)}`].filter(Boolean).join('\n')
      const lastError = ctx.exchanges.find((e) => e.error)
      if (lastError) diagnostics = [diagnostics, `network: ${lastError.error}`].filter(Boolean).join('\n')
    }
  }
  return {
    id: a.id,
    description: a.description,
    requirements: a.requirements,
    level: a.level,
    profile: a.profile,
    features: a.features ?? [],
    status,
    ...(message ? { message } : {}),
    ...(diagnostics ? { diagnostics } : {}),
    notes: ctx.notes,
    exchanges: ctx.exchanges,
    durationMs: Math.round(performance.now() - started),
  }
}

export function countOutcomes(outcomes: Outcome[]): Counts {
  const c: Counts = { total: outcomes.length, PASS: 0, FAIL: 0, WARN: 0, INAPPLICABLE: 0, ERROR: 0 }
  for (const o of outcomes) c[o.status]++
  return c
}

/** Run the suite against `config.target`. */
export async function execute(config: SuiteConfig, suiteKey: PrivateJwk, senderKey: PrivateJwk | undefined, hooks: RunHooks = {}, assertions: readonly Assertion[] = ASSERTIONS, prepare?: (state: RunState) => void): Promise<RunReport> {
  const startedAt = new Date()
  const state = new RunState(config, suiteKey, senderKey)
  prepare?.(state)
  const selection = select(assertions, config.profile, config.features, config.filter)
  hooks.onStart?.(selection.length)
  const outcomes: Outcome[] = []
  for (const [i, s] of selection.entries()) {
    const o: Outcome = s.inapplicable
      ? {
          id: s.assertion.id,
          description: s.assertion.description,
          requirements: s.assertion.requirements,
          level: s.assertion.level,
          profile: s.assertion.profile,
          features: s.assertion.features ?? [],
          status: 'INAPPLICABLE',
          message: s.inapplicable,
          notes: [],
          exchanges: [],
          durationMs: 0,
        }
      : await runOne(s.assertion, state)
    outcomes.push(o)
    hooks.onOutcome?.(o, i, selection.length)
  }
  const endedAt = new Date()
  let operatorId = config.operatorId
  try {
    operatorId ??= (await state.target()).operatorId
  } catch {
    /* reported per assertion */
  }
  return {
    suite: { name: '@timbre/conformance', version: SUITE_VERSION },
    specVersion: SPEC_VERSION,
    target: config.target,
    profile: config.profile,
    features: config.features,
    ...(operatorId ? { operatorId } : {}),
    run: {
      startedAt: startedAt.toISOString(),
      endedAt: endedAt.toISOString(),
      durationMs: endedAt.getTime() - startedAt.getTime(),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      ...(config.filter ? { filter: config.filter } : {}),
    },
    config: publicConfig(config),
    runner: { operatorId: config.suite.operatorId, publicKey: toPublicJwk(suiteKey) },
    setup: state.setupExchanges,
    counts: countOutcomes(outcomes),
    passed: !outcomes.some((o) => o.level === 'MUST' && (o.status === 'FAIL' || o.status === 'ERROR')),
    outcomes,
  }
}
