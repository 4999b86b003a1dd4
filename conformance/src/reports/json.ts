import type { RunReport } from '../runner/run.js'

/** The JSON report: everything, indented. */
export function renderJson(r: RunReport): string {
  return JSON.stringify(r, null, 2) + '\n'
}
