// What the routing node and the vault role need from the directory, whether
// the directory runs in this process (LocalDirectory, store-backed) or on
// another node (RemoteDirectory, over HTTP with every answer verified).
// Implemented by the directory engineer; consumed by routing and relay code.
import type { DirectoryLine, Jwks, PublicJwk } from '@timbre/sdk'

/** An admitted operator as the directory / trust list knows it (spec 3.4, 8.x). */
export interface OperatorRecord {
  id: string
  baseUrl: string
  relayEndpoint: string
  roles: string[]
  status: 'active' | 'suspended' | 'revoked'
  /** Signing and encryption public keys, current and retired. */
  jwks: Jwks
}

/** A signed directory line and its decoded payload. */
export interface ResolvedLine {
  line: DirectoryLine
  /** The compact JWS as the directory signed it (sent as `route` in relays). */
  jws: string
}

export interface DirectoryView {
  /** The line valid now (or at `at`) for an address, signed; undefined when unknown. */
  lookup(address: string, at?: Date): Promise<ResolvedLine | undefined>
  /** An operator record by id. */
  operator(id: string): Promise<OperatorRecord | undefined>
  /** A trusted, active operator's signing key by kid (for request proofs, stamps, evidence). */
  nodeKey(operatorId: string, kid: string, at?: Date): Promise<PublicJwk | undefined>
  /** The directory's own signing keys (to verify lines). */
  directoryKeys(): Promise<PublicJwk[]>
}
