/**
 * The registry of every assertion. Ids are stable and never reused.
 * Portability assertions (feature `portability`) and metering assertions
 * (feature `metering`) are INAPPLICABLE for targets that do not declare the
 * feature in their config; they never count as a pass then.
 */
import type { Assertion } from './assertion.js'
import { nodeAssertions } from './common/node.js'
import { vaultAuthAssertions } from './vault/auth.js'
import { vaultRelayAssertions } from './vault/relay.js'
import { vaultEnvelopeAssertions } from './vault/envelope.js'
import { vaultContentAssertions } from './vault/content.js'
import { vaultStampAssertions } from './vault/stamp.js'
import { vaultHttpAssertions } from './vault/http.js'
import { routerAssertions } from './router/submission.js'
import { routerRelayAssertions } from './router/relay.js'
import { directoryAssertions } from './directory/lookup.js'
import { directoryFeedAssertions } from './directory/feed.js'
import { portabilityDirectoryAssertions } from './portability/directory.js'
import { portabilityVaultAssertions } from './portability/vault.js'
import { portabilityArchiveAssertions } from './portability/archive.js'
import { meteringAssertions } from './metering/sender.js'

export type { Assertion } from './assertion.js'

export const ASSERTIONS: readonly Assertion[] = Object.freeze([
  ...nodeAssertions('vault-operator'),
  // First of the profile: a scheduled move of a test vault is still ahead.
  ...portabilityVaultAssertions,
  ...portabilityArchiveAssertions,
  ...vaultRelayAssertions,
  ...vaultAuthAssertions,
  ...vaultStampAssertions,
  ...vaultEnvelopeAssertions,
  ...vaultContentAssertions,
  ...vaultHttpAssertions,
  ...nodeAssertions('routing-node'),
  ...routerAssertions,
  ...routerRelayAssertions,
  ...meteringAssertions,
  ...nodeAssertions('directory'),
  ...directoryAssertions,
  ...directoryFeedAssertions,
  ...portabilityDirectoryAssertions,
])

const seen = new Set<string>()
for (const a of ASSERTIONS) {
  if (seen.has(a.id)) throw new Error(`duplicate assertion id ${a.id}`)
  seen.add(a.id)
}
