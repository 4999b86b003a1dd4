// How this node's vault role puts its own addresses into the directory,
// wherever the directory runs (local store, or a PUT to the remote one).
import type { ResolvedLine } from './directory-view.js'

export interface HostedAddressRegistrar {
  /** Register (or refresh) the line of an address hosted by this node. */
  registerHosted(address: string): Promise<ResolvedLine>
}
