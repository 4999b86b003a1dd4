/** The simulated directory: signs the route (directory line) a relay carries. */
import { signDirectoryLine, type DirectoryLine, type PrivateJwk, type PublicJwk } from '@timbre/sdk'

export class SimulatedDirectory {
  constructor(
    readonly issuer: string,
    readonly key: PrivateJwk,
  ) {}

  line(address: string, operator: string, relayEndpoint: string, encryptionKeys: PublicJwk[], overrides: Partial<DirectoryLine> = {}): Promise<string> {
    const now = new Date()
    return signDirectoryLine(
      {
        v: 1,
        address,
        operator,
        relayEndpoint,
        encryptionKeys,
        version: 1,
        validFrom: new Date(now.getTime() - 60_000).toISOString(),
        validTo: null,
        issuedAt: now.toISOString(),
        issuer: this.issuer,
        ...overrides,
      },
      this.key,
    )
  }
}
