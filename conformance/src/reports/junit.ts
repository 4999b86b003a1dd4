/** JUnit XML: one testsuite per profile, one testcase per assertion. */
import type { RunReport } from '../runner/run.js'

const esc = (s: string) => s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')

export function renderJunit(r: RunReport): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>']
  const c = r.counts
  out.push(`<testsuites name="timbre-conformance" tests="${c.total}" failures="${c.FAIL}" errors="${c.ERROR}" skipped="${c.INAPPLICABLE}" time="${(r.run.durationMs / 1000).toFixed(3)}">`)
  out.push(`  <testsuite name="${esc(r.profile)}" tests="${c.total}" failures="${c.FAIL}" errors="${c.ERROR}" skipped="${c.INAPPLICABLE}" timestamp="${r.run.startedAt}" hostname="${esc(r.target)}">`)
  for (const o of r.outcomes) {
    out.push(`    <testcase classname="${esc(o.profile)}" name="${esc(o.id)}" time="${(o.durationMs / 1000).toFixed(3)}">`)
    const detail = esc([o.message, o.diagnostics, ...o.exchanges.map((e) => `${e.method} ${e.url} → ${e.status ?? e.error}`)].filter(Boolean).join('\n'))
    if (o.status === 'FAIL') out.push(`      <failure message="${esc(o.message ?? 'failed')}" type="${o.level}">${detail}</failure>`)
    if (o.status === 'ERROR') out.push(`      <error message="${esc(o.message ?? 'error')}">${detail}</error>`)
    if (o.status === 'INAPPLICABLE') out.push(`      <skipped message="${esc(o.message ?? 'inapplicable')}"/>`)
    out.push(`      <properties><property name="status" value="${o.status}"/><property name="level" value="${o.level}"/><property name="requirements" value="${esc(o.requirements.join(' '))}"/></properties>`)
    if (o.status === 'WARN') out.push(`      <system-out>WARN: ${esc(o.message ?? '')}</system-out>`)
    out.push('    </testcase>')
  }
  out.push('  </testsuite>', '</testsuites>', '')
  return out.join('\n')
}
