#!/usr/bin/env node
// npm run demo — a Timbre network on loopback in one command: a routing node
// with the directory, two vault operators, N documents, each verified
// offline and counted at the vaults. Exit 0 only if every document landed
// exactly once.
//
// Settings (environment): TIMBRE_DEMO_DOCUMENTS (100), TIMBRE_DEMO_PEOPLE (10),
// TIMBRE_DEMO_TIMEOUT_SECONDS (120), TIMBRE_DEMO_CONCURRENCY (8),
// TIMBRE_DEMO_LOG_LEVEL (error), TIMBRE_DEMO_KEEP=1 keeps the temp dir.
import { DemoTimeout, runDemo, type DemoSummary } from './run.js'

const int = (name: string, fallback: number, min = 1): number => {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min) {
    console.error(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`)
    process.exit(2)
  }
  return n
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
type Level = (typeof LEVELS)[number]

export function formatSummary(s: DemoSummary): string {
  const rows: Array<[string, string]> = [
    ['sent (stamped)', String(s.sent)],
    ['refused', String(s.refused)],
    ['delivered', String(s.delivered)],
    ['failed', String(s.failed)],
    ['lost', String(s.lost)],
    ['duplicated', String(s.duplicated)],
    ['stamps verified offline', String(s.stampsVerified)],
    ['evidence verified offline', String(s.evidenceVerified)],
    ['unverified messages', String(s.unverified)],
    ...s.perVault.map((v): [string, string] => [`at ${v.id}`, `${v.found}/${v.expected} (${v.accounts} accounts, by ${s.vaultCheck})`]),
    ...(s.port
      ? ([
          ['ported address', `${s.port.address} ${s.port.from} → ${s.port.to}`],
          ['  documents before / after', `${s.port.before} / ${s.port.after}`],
          ['  at new operator (archive)', `${s.port.atNewOperator}/${s.port.before + s.port.after}${s.port.ok ? '' : ' FAILED'}`],
          ['  cut-over / archive moved', `${(s.port.cutoverMs / 1000).toFixed(1)} s / ${(s.port.movedMs / 1000).toFixed(1)} s`],
        ] as Array<[string, string]>)
      : []),
    ['send time', `${(s.sendMs / 1000).toFixed(2)} s`],
    ['elapsed', `${(s.elapsedMs / 1000).toFixed(2)} s`],
    ['docs/s (sent → delivered)', s.docsPerSecond.toFixed(1)],
  ]
  const w = Math.max(...rows.map(([k]) => k.length))
  const v = Math.max(...rows.map(([, x]) => x.length))
  const line = `+${'-'.repeat(w + 2)}+${'-'.repeat(v + 2)}+`
  return [line, ...rows.map(([k, x]) => `| ${k.padEnd(w)} | ${x.padStart(v)} |`), line].join('\n')
}

async function main(): Promise<number> {
  const level = (process.env.TIMBRE_DEMO_LOG_LEVEL ?? 'error') as Level
  if (!LEVELS.includes(level)) {
    console.error(`TIMBRE_DEMO_LOG_LEVEL must be one of ${LEVELS.join(', ')}`)
    return 2
  }
  const documents = int('TIMBRE_DEMO_DOCUMENTS', 100)
  const people = int('TIMBRE_DEMO_PEOPLE', 10, 2)
  const timeoutMs = int('TIMBRE_DEMO_TIMEOUT_SECONDS', 120) * 1000
  // A second Ctrl-C exits at once; the first lets the nodes stop and the temp dir go.
  process.once('SIGINT', () => {
    console.error('\ninterrupted: stopping the nodes…')
    process.once('SIGINT', () => process.exit(130))
    setTimeout(() => process.exit(130), 10_000).unref()
  })
  const summary = await runDemo({
    documents,
    people,
    timeoutMs,
    concurrency: int('TIMBRE_DEMO_CONCURRENCY', 8),
    log: (l) => console.log(l),
    logLevel: level,
    keep: process.env.TIMBRE_DEMO_KEEP === '1',
  })
  console.log('')
  console.log(formatSummary(summary))
  for (const p of summary.problems) console.log(`  ! ${p}`)
  console.log(summary.ok ? `OK: all ${documents} documents delivered exactly once, every stamp and evidence verified offline.` : 'FAILED: not every document was delivered exactly once and verified.')
  return summary.ok ? 0 : 1
}

// Hard bound: whatever happens, the process does not outlive the limit by much.
const hardLimit = setTimeout(() => {
  console.error('FAILED: the demo hung past its time limit (cleanup did not finish)')
  process.exit(1)
}, (Number(process.env.TIMBRE_DEMO_TIMEOUT_SECONDS) || 120) * 1000 + 20_000)
hardLimit.unref()

main().then(
  (code) => {
    process.exitCode = code
    // PGlite or sockets may hold the loop a moment; do not wait on them.
    setTimeout(() => process.exit(code), 500).unref()
  },
  (err) => {
    console.error(`FAILED: ${err instanceof DemoTimeout ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
    process.exitCode = 1
    setTimeout(() => process.exit(1), 500).unref()
  },
)
