/**
 * The Timbre conformance suite, programmatically.
 *
 * @example
 * ```ts
 * import { runSuite } from '@timbre/conformance'
 * const report = await runSuite({ target: 'http://127.0.0.1:8080', profile: 'vault-operator',
 *   suite: { operatorId: 'conformance.timbre.test', key }, vault: { addresses: [addr] } })
 * if (!report.passed) process.exitCode = 1
 * ```
 * @module
 */
import { generateSigningKey, type PrivateJwk } from '@timbre/sdk'
import { normalizeConfig } from './config.js'
import { readKeyFile } from './actors/keys.js'
import { adminSetup } from './actors/admin.js'
import { SimulatedVault } from './actors/vault.js'
import type { SimulatedSender as SimulatedSender_ } from './actors/sender.js'
import { discoverTarget } from './actors/target.js'
import { RecordingHttp } from './http.js'
import { execute, type RunHooks, type RunReport } from './runner/run.js'
import type { SuiteConfig, Exchange } from './types.js'
import type { Assertion } from './assertions/assertion.js'

export * from './types.js'
export { ASSERTIONS } from './assertions/index.js'
export type { Assertion } from './assertions/assertion.js'
export { loadConfig, normalizeConfig, configSkeleton } from './config.js'
export { select, matchesFilter } from './runner/select.js'
export type { RunReport, Counts, RunHooks } from './runner/run.js'
export { renderJson } from './reports/json.js'
export { renderJunit } from './reports/junit.js'
export { renderHtml } from './reports/html.js'
export { signReport, verifySignedReport, REPORT_TYP } from './reports/signed.js'
export { consoleReporter } from './reports/console.js'

export type RunSuiteConfig = Partial<SuiteConfig> & { target: string }

/** Resolve keys, do the optional admin set-up, and run the suite. */
export async function runSuite(config: RunSuiteConfig, hooks: RunHooks = {}, assertions?: readonly Assertion[]): Promise<RunReport> {
  const c = normalizeConfig(config)
  const suiteKey: PrivateJwk = c.suite.key ?? (c.suite.keyFile ? readKeyFile(c.suite.keyFile) : await generateSigningKey())
  let senderKey: PrivateJwk | undefined = c.sender?.key ?? (c.sender?.keyFile ? readKeyFile(c.sender.keyFile) : undefined)
  const adminLog: Exchange[] = []
  let vault: SimulatedVault | undefined
  let scenarios = {}
  let otherSender: SimulatedSender_ | undefined
  if (c.admin?.token) {
    if (c.profile === 'routing-node' || c.profile === 'directory') {
      // The suite plays the vault operator behind the routing node.
      if (!senderKey && c.profile === 'routing-node') {
        senderKey = await generateSigningKey()
        c.sender = { id: c.sender?.id ?? '0009:CONFORMANCE01', key: senderKey }
      }
      try {
        const t = await discoverTarget(new RecordingHttp(adminLog, c.timeoutMs), c.target, c.operatorId)
        vault = await SimulatedVault.start({
          ...c.suiteVault,
          resolveNodeKey: (iss, kid) => (iss === t.operatorId ? t.keys.get(kid) : undefined),
          resolveDirectoryKey: (kid) => t.keys.get(kid),
        })
        const setup = await adminSetup(c, suiteKey, senderKey, adminLog, vault, t.operatorId)
        c.vault.addresses = setup.addresses
        scenarios = setup.scenarios
        otherSender = setup.otherSender
      } catch (err) {
        adminLog.push({ method: 'SETUP', url: c.target, requestHeaders: {}, error: `routing-node set-up failed: ${(err as Error).message}` })
      }
    } else {
      const setup = await adminSetup(c, suiteKey, senderKey, adminLog)
      c.vault.addresses = setup.addresses
    }
  }
  try {
    const report = await execute(c, suiteKey, senderKey, hooks, assertions, (state) => {
      if (vault) state.suiteVault = vault
      state.scenarios = scenarios
      if (otherSender) state.otherSender = otherSender
    })
    report.setup.unshift(...adminLog)
    return report
  } finally {
    await vault?.close()
  }
}
