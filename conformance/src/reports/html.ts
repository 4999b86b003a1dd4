/**
 * One self-contained HTML file: inline CSS, no scripts, no network. A
 * summary (id="summary"), coverage by requirement, and every outcome with
 * the exchanges it made, each requirement linking to its spec chapter.
 */
import { loadRequirements, type Requirement } from '@timbre/spec'
import type { RunReport } from '../runner/run.js'
import type { Outcome, OutcomeStatus } from '../types.js'

const esc = (s: unknown) => String(s ?? '').replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!)

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header,main{max-width:1100px;margin:0 auto;padding:16px 24px}
h1{font-size:22px;margin:8px 0}h2{font-size:17px;margin:28px 0 8px}
table{border-collapse:collapse;width:100%;background:#fff}th,td{border:1px solid #dfe3ea;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef1f5}code,pre{font:12px/1.4 ui-monospace,Menlo,Consolas,monospace}pre{white-space:pre-wrap;word-break:break-all;background:#f1f3f6;padding:6px;margin:4px 0}
.s{font-weight:600;padding:1px 6px;border-radius:3px;color:#fff;display:inline-block;min-width:92px;text-align:center}
.PASS{background:#1f883d}.FAIL{background:#cf222e}.WARN{background:#bf8700}.INAPPLICABLE{background:#6e7781}.ERROR{background:#8250df}.UNCOVERED{background:#cf222e}.EXEMPT{background:#6e7781}
#summary{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}#summary div{background:#fff;border:1px solid #dfe3ea;padding:8px 14px;border-radius:6px}
#summary b{display:block;font-size:22px}.verdict{font-size:18px;font-weight:700;margin:8px 0}.ok{color:#1f883d}.ko{color:#cf222e}
details{background:#fff;border:1px solid #dfe3ea;margin:6px 0;padding:6px 10px;border-radius:4px}summary{cursor:pointer}
.meta{color:#57606a}`

export interface HtmlOptions {
  specBaseUrl?: string
  exemptions?: Array<{ id: string; reason: string }>
  requirements?: Requirement[]
}

export function renderHtml(r: RunReport, o: HtmlOptions = {}): string {
  const base = o.specBaseUrl ?? (r.config.specBaseUrl as string | undefined) ?? '../spec/'
  let requirements = o.requirements
  if (!requirements) {
    try {
      requirements = loadRequirements().requirements
    } catch {
      requirements = []
    }
  }
  const byId = new Map(requirements.map((q) => [q.id, q]))
  const link = (id: string) => {
    const q = byId.get(id)
    return q ? `<a href="${esc(`${base}${q.chapter}.md#${id.toLowerCase()}`)}" title="${esc(q.text)}">${esc(id)}</a>` : esc(id)
  }
  const c = r.counts
  const rows = (list: Outcome[]) =>
    list
      .map(
        (x) => `<details id="${esc(x.id)}"><summary><span class="s ${x.status}">${x.status}</span> <code>${esc(x.id)}</code> — ${esc(x.description)} <span class="meta">[${x.level}; ${x.requirements.map(link).join(', ')}]</span></summary>
${x.message ? `<p><b>${esc(x.message)}</b></p>` : ''}${x.diagnostics ? `<pre>${esc(x.diagnostics)}</pre>` : ''}${x.notes.map((n) => `<p class="meta">${esc(n)}</p>`).join('')}
${x.exchanges
  .map(
    (e) => `<pre>${esc(`${e.method} ${e.url}\n${Object.entries(e.requestHeaders).map(([k, v]) => `${k}: ${v}`).join('\n')}${e.requestBody ? `\n\n${e.requestBody}` : ''}`)}</pre><pre>${esc(e.error ? `ERROR ${e.error}` : `${e.status}\n${Object.entries(e.responseHeaders ?? {}).map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${e.responseBody ?? ''}`)}</pre>`,
  )
  .join('')}</details>`,
      )
      .join('\n')

  // Coverage by requirement: every requirement for the tested profile's role.
  const cover = new Map<string, Outcome[]>()
  for (const x of r.outcomes) for (const id of x.requirements) cover.set(id, [...(cover.get(id) ?? []), x])
  const exempt = new Map((o.exemptions ?? []).map((e) => [e.id, e.reason]))
  const worst = (xs: Outcome[]): OutcomeStatus => (['ERROR', 'FAIL', 'WARN', 'PASS', 'INAPPLICABLE'] as OutcomeStatus[]).find((s) => xs.some((x) => x.status === s)) ?? 'INAPPLICABLE'
  const relevant = requirements.filter((q) => q.roles.includes(r.profile) || cover.has(q.id))
  const coverageRows = relevant
    .map((q) => {
      const xs = cover.get(q.id) ?? []
      const state = xs.length ? worst(xs) : exempt.has(q.id) ? 'EXEMPT' : 'UNCOVERED'
      return `<tr><td>${link(q.id)}</td><td>${esc(q.level)}</td><td><span class="s ${state}">${state}</span></td><td>${xs.map((x) => `<a href="#${esc(x.id)}">${esc(x.id)}</a>`).join('<br>') || esc(exempt.get(q.id) ?? '')}</td><td>${esc(q.text)}</td></tr>`
    })
    .join('\n')
  const order: OutcomeStatus[] = ['FAIL', 'ERROR', 'WARN', 'PASS', 'INAPPLICABLE']
  const sorted = [...r.outcomes].sort((a, b) => order.indexOf(a.status) - order.indexOf(b.status))
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Timbre conformance — ${esc(r.target)} (${esc(r.profile)})</title><style>${CSS}</style></head>
<body><header><h1>Timbre conformance report</h1>
<p class="meta">Target <code>${esc(r.target)}</code> (operator <code>${esc(r.operatorId ?? '?')}</code>) · profile <b>${esc(r.profile)}</b> · features ${esc(r.features.join(', ') || 'none')} · suite ${esc(r.suite.version)} · spec ${esc(r.specVersion)} · ${esc(r.run.startedAt)} → ${esc(r.run.endedAt)} (${r.run.durationMs} ms) · Node ${esc(r.run.node)}</p>
<p class="verdict ${r.passed ? 'ok' : 'ko'}">${r.passed ? 'CONFORMANT — no required assertion failed' : 'NOT CONFORMANT — a required assertion failed or errored'}</p>
<section id="summary"><div>Total<b id="count-total">${c.total}</b></div><div>Passed<b id="count-pass">${c.PASS}</b></div><div>Failed<b id="count-fail">${c.FAIL}</b></div><div>Warnings<b id="count-warn">${c.WARN}</b></div><div>Errors<b id="count-error">${c.ERROR}</b></div><div>Inapplicable<b id="count-inapplicable">${c.INAPPLICABLE}</b></div></section>
</header><main>
<h2>Assertions</h2>
${rows(sorted)}
<h2>Coverage by requirement (${esc(r.profile)})</h2>
<table><thead><tr><th>Requirement</th><th>Level</th><th>State</th><th>Assertions / exemption</th><th>Text</th></tr></thead><tbody>
${coverageRows}
</tbody></table>
<h2>Runner</h2><p class="meta">Operator <code>${esc(r.runner.operatorId)}</code>, key <code>${esc(JSON.stringify(r.runner.publicKey))}</code></p>
</main></body></html>
`
}
