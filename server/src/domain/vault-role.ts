// The vault-operator role: VaultKit (SDK) over the node's database, trusting
// routing nodes through the directory, remembering proofs in the shared
// replay table, and deciphering with every encryption key this node ever had
// (content sealed before a rotation still opens, TMB-TRUST-023).
import { toPublicJwk, VaultKit, type PrivateJwk } from '@timbre/sdk'
import type { RelayLogger } from '@timbre/sdk/vault'
import type { Kysely } from 'kysely'
import type { NodeConfig } from '../config/schema.js'
import { ReplayRepository } from '../store/replay-repository.js'
import type { Database } from '../store/schema.js'
import { VaultRepository } from '../store/vault-repository.js'
import type { DirectoryView } from './directory-view.js'
import type { NodeKeyring } from './node-keys.js'

export interface VaultRole {
  readonly kit: VaultKit
  readonly storage: VaultRepository
}

export function createVaultRole(config: NodeConfig, db: Kysely<Database>, keys: NodeKeyring, directory: DirectoryView, logger: RelayLogger, directoryUrl?: () => string, kickOutbox: () => void = () => {}): VaultRole {
  const storage = new VaultRepository(db)
  const published = keys.jwks().keys
  const encryptionKeys = published.filter((k) => k.use === 'enc').map((k) => keys.privateKey(k.kid)).filter((k): k is PrivateJwk => k !== undefined)
  const verificationKeys = published.filter((k) => k.use === 'sig' && k.kid !== keys.signingKey.kid).map(toPublicJwk)
  const kit = new VaultKit({
    operatorId: config.nodeId,
    signingKey: keys.signingKey,
    encryptionKeys,
    verificationKeys,
    storage,
    // Only an active routing node of the directory may relay (TMB-AUTH-009):
    // anyone else is node-untrusted, before its signature is even checked.
    resolveNodeKey: async (iss, kid) => {
      const op = await directory.operator(iss)
      if (!op || op.status !== 'active' || !op.roles.includes('routing-node')) return undefined
      return directory.nodeKey(iss, kid)
    },
    // Routes are lines signed by our directory (TMB-DIR-007).
    resolveDirectoryKey: async (kid) => (await directory.directoryKeys()).find((k) => k.kid === kid),
    replayStore: new ReplayRepository(db),
    // Portability (chapter 9): the directory's porting endpoints, this node's own when local.
    ...(directoryUrl || config.directoryUrl ? { directoryUrl: directoryUrl ?? config.directoryUrl! } : {}),
    // Archives come from donors: active vault operators of the directory (TMB-ARC-005).
    resolveOperatorKey: async (iss, kid) => {
      const op = await directory.operator(iss)
      if (!op || op.status !== 'active' || !op.roles.includes('vault-operator')) return undefined
      return directory.nodeKey(iss, kid)
    },
    // Handover (7.6, TMB-EVD-015/016): VaultRepository.recordHandover keeps the
    // evidence and queues its push in one transaction; the outbox worker pushes.
    handover: config.vault.handover === 'off' ? false : { classes: config.vault.handover, deliver: () => kickOutbox() },
    maxContentBytes: config.limits.maxContentBytes,
    maxRequestBytes: config.limits.maxRequestBytes,
    logger,
  })
  return { kit, storage }
}
