#!/usr/bin/env node
/**
 * timbre-conformance: run the Timbre conformance suite against a node.
 *
 *   timbre-conformance run --target <url> --profile <vault-operator|routing-node|directory> [options]
 *   timbre-conformance list [--profile p]
 *   timbre-conformance init [--target url] [--profile p] [--config conformance.json]
 *   timbre-conformance verify-report <signed file> [--key jwk-file-or-json]
 */
import { parseArgs } from 'node:util'
import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { toPublicJwk } from '@timbre/sdk'
import { loadConfig, configSkeleton, DEFAULT_CONFIG_FILE, DEFAULT_SUITE_OPERATOR } from './config.js'
import { ASSERTIONS } from './assertions/index.js'
import { runSuite } from './index.js'
import { consoleReporter } from './reports/console.js'
import { renderJson } from './reports/json.js'
import { renderJunit } from './reports/junit.js'
import { renderHtml } from './reports/html.js'
import { signReport, verifySignedReport } from './reports/signed.js'
import { readKeyFile, writeNewKeyFile } from './actors/keys.js'
import { matchesFilter } from './runner/select.js'
import { PROFILES, HarnessError, type Profile } from './types.js'

const USAGE = `Usage:
  timbre-conformance run --target <url> --profile <${PROFILES.join('|')}> [--config conformance.json]
        [--filter <glob or substring>] [--feature f]... [--operator-id id] [--address A]...
        [--report-json f] [--report-junit f] [--report-html f] [--report-signed f]
        [--timeout ms] [--spec-base url]
  timbre-conformance list [--profile p] [--filter f]
  timbre-conformance init [--target url] [--profile p] [--config conformance.json]
  timbre-conformance verify-report <signed file> [--key <jwk file or JSON>]
Exit code of run: 0 when no MUST-level assertion failed or errored, 1 otherwise, 2 on usage errors.`

function loadExemptions(): Array<{ id: string; reason: string }> {
  const file = new URL('../exemptions.json', import.meta.url)
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : []
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      target: { type: 'string' },
      profile: { type: 'string' },
      config: { type: 'string' },
      filter: { type: 'string' },
      feature: { type: 'string', multiple: true },
      'operator-id': { type: 'string' },
      address: { type: 'string', multiple: true },
      'report-json': { type: 'string' },
      'report-junit': { type: 'string' },
      'report-html': { type: 'string' },
      'report-signed': { type: 'string' },
      timeout: { type: 'string' },
      'spec-base': { type: 'string' },
      key: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (!command || values.help || command === 'help') {
    console.log(USAGE)
    return command ? 0 : 2
  }
  switch (command) {
    case 'list': {
      const profile = values.profile as Profile | undefined
      const list = ASSERTIONS.filter((a) => (!profile || a.profile === profile) && matchesFilter(a, values.filter))
      for (const a of list) {
        console.log(`${a.id.padEnd(42)} ${a.level.padEnd(6)} ${a.profile.padEnd(14)} ${a.requirements.join(',')}${a.features?.length ? ` [feature: ${a.features.join(',')}]` : ''}\n    ${a.description}`)
      }
      console.log(`${list.length} assertions`)
      return 0
    }
    case 'init': {
      const file = values.config ?? DEFAULT_CONFIG_FILE
      if (existsSync(file)) {
        console.error(`${file} exists; not overwriting`)
        return 2
      }
      const profile = (values.profile ?? 'vault-operator') as Profile
      const skeleton = configSkeleton(values.target ?? 'http://127.0.0.1:8080', profile)
      writeFileSync(file, JSON.stringify(skeleton, null, 2) + '\n')
      const dir = dirname(resolve(file))
      const keyPath = resolve(dir, 'conformance-key.json')
      const key = existsSync(keyPath) ? readKeyFile(keyPath) : await writeNewKeyFile(keyPath)
      const senderPath = resolve(dir, 'conformance-sender-key.json')
      const sender = existsSync(senderPath) ? readKeyFile(senderPath) : await writeNewKeyFile(senderPath)
      console.log(`Wrote ${file}, ${keyPath} and ${senderPath}.

Register the suite with the node under test as a trusted routing node (and directory):
  operator id: ${DEFAULT_SUITE_OPERATOR}
  public key:  ${JSON.stringify(toPublicJwk(key))}

For the routing-node profile, register the test sender 0009:CONFORMANCE01 with key:
  ${JSON.stringify(toPublicJwk(sender))}

Then fill in vault.addresses (two test vaults hosted by the node), or set admin.token
to let the suite do all of this through a Timbre reference node's admin API.`)
      return 0
    }
    case 'verify-report': {
      const file = positionals[0]
      if (!file) {
        console.error(USAGE)
        return 2
      }
      let pinned
      if (values.key) pinned = JSON.parse(existsSync(values.key) ? readFileSync(values.key, 'utf8') : values.key)
      if (pinned?.d) pinned = toPublicJwk(pinned)
      try {
        const v = await verifySignedReport(readFileSync(file, 'utf8'), pinned)
        const c = v.report.counts
        console.log(`Valid signature by ${v.key.kid}${v.pinned ? ' (pinned key)' : ' (embedded key — pin it with --key to trust the runner)'}`)
        console.log(`${v.report.target} as ${v.report.profile}, ${v.report.run.startedAt}: ${c.PASS} passed, ${c.FAIL} failed, ${c.WARN} warnings, ${c.ERROR} errors, ${c.INAPPLICABLE} inapplicable — ${v.report.passed ? 'CONFORMANT' : 'NOT CONFORMANT'}`)
        return 0
      } catch (err) {
        console.error(`Invalid signed report: ${(err as Error).message}`)
        return 1
      }
    }
    case 'run': {
      const config = loadConfig(values.config, {
        ...(values.target ? { target: values.target } : {}),
        ...(values.profile ? { profile: values.profile } : {}),
        ...(values.feature ? { features: values.feature } : {}),
        ...(values['operator-id'] ? { operatorId: values['operator-id'] } : {}),
        ...(values.filter ? { filter: values.filter } : {}),
        ...(values.timeout ? { timeoutMs: Number(values.timeout) } : {}),
        ...(values['spec-base'] ? { specBaseUrl: values['spec-base'] } : {}),
        ...(values.address ? { addresses: values.address } : {}),
      })
      if (config.suite.keyFile && !existsSync(config.suite.keyFile)) {
        console.error(`No suite key at ${config.suite.keyFile}; creating one. Register its public key with the target as a trusted routing node.`)
        await writeNewKeyFile(config.suite.keyFile)
      }
      const reporter = consoleReporter()
      const report = await runSuite(config, reporter)
      reporter.summary(report)
      if (values['report-json']) writeFileSync(values['report-json'], renderJson(report))
      if (values['report-junit']) writeFileSync(values['report-junit'], renderJunit(report))
      if (values['report-html']) writeFileSync(values['report-html'], renderHtml(report, { exemptions: loadExemptions(), specBaseUrl: config.specBaseUrl }))
      if (values['report-signed']) {
        if (!config.suite.keyFile) throw new HarnessError('--report-signed needs a suite key file')
        writeFileSync(values['report-signed'], (await signReport(report, readKeyFile(config.suite.keyFile))) + '\n')
      }
      return report.passed ? 0 : 1
    }
    default:
      console.error(`Unknown command ${command}\n${USAGE}`)
      return 2
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    console.error(err instanceof HarnessError ? `timbre-conformance: ${err.message}` : err)
    process.exitCode = 2
  },
)
