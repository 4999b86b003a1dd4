// A plain-text banner on stderr when `timbre start` runs on development
// defaults: the JSON warnings go to log collectors, this goes to the person
// at the terminal, who is the one about to mistake a dev node for a real one.
import { resolveAdminToken } from '../config/admin-token.js'
import { insecureDefaults } from '../config/announce.js'
import type { NodeConfig } from '../config/schema.js'

export function devBanner(config: NodeConfig, url: string): string[] {
  const warnings = insecureDefaults(config, resolveAdminToken(config))
  const lines = [`Timbre node ${config.nodeId} (${config.roles.join(', ')}) listening on ${url}`, `API docs: ${url}/docs`]
  if (warnings.length > 0) {
    lines.push('', '!!! RUNNING ON DEVELOPMENT DEFAULTS — NOT FOR PRODUCTION !!!')
    for (const w of warnings) lines.push(`  - ${w}`)
  }
  const width = Math.min(100, Math.max(...lines.map((l) => l.length)))
  const bar = '='.repeat(width)
  return [bar, ...lines, bar]
}
