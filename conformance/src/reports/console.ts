/** Console progress: one line per assertion, then the counts. */
import type { Outcome } from '../types.js'
import type { RunHooks, RunReport } from '../runner/run.js'

const COLORS: Record<string, string> = { PASS: '32', FAIL: '31', WARN: '33', INAPPLICABLE: '90', ERROR: '35' }

export function consoleReporter(write: (s: string) => void = (s) => process.stdout.write(s), color = process.stdout.isTTY === true): RunHooks & { summary(r: RunReport): void } {
  const paint = (status: string) => (color ? `\x1b[${COLORS[status]}m${status.padEnd(12)}\x1b[0m` : status.padEnd(12))
  return {
    onStart(total) {
      write(`Running ${total} assertions\n`)
    },
    onOutcome(o: Outcome, i, total) {
      const n = `[${String(i + 1).padStart(String(total).length)}/${total}]`
      write(`${n} ${paint(o.status)} ${o.id} (${o.durationMs} ms)${o.message && o.status !== 'PASS' ? `\n${' '.repeat(n.length + 14)}${o.message}` : ''}\n`)
    },
    summary(r) {
      const c = r.counts
      write(`\n${c.total} assertions: ${c.PASS} passed, ${c.FAIL} failed, ${c.WARN} warnings, ${c.ERROR} errors, ${c.INAPPLICABLE} inapplicable (${r.run.durationMs} ms)\n`)
      write(r.passed ? 'CONFORMANT: no required assertion failed\n' : 'NOT CONFORMANT: a required assertion failed or errored\n')
      write(`Runner key (pin it to verify signed reports): ${JSON.stringify(r.runner.publicKey)}\n`)
    },
  }
}
