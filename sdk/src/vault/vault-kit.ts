/**
 * The toolkit of a vault vendor: one object holding the operator's keys and
 * storage, serving relays, opening accounts and re-checking deposits.
 */
import type { FastifyPluginAsync } from 'fastify'
import { TimbreError } from '../errors.js'
import { contentDigest, digestEquals, tokenDigest } from '../protocol/digest.js'
import { verifyEnvelope, type EnvelopeMetadata } from '../protocol/envelope.js'
import { decodeEvidence, verifyEvidence, verifyStamp, type Evidence } from '../protocol/evidence.js'
import { KeySet } from '../protocol/key-set.js'
import { toPublicJwk, type Jwks, type PublicJwk } from '../protocol/keys.js'
import { generateVaultAddress, type VaultAddress } from '../protocol/vault-address.js'
import { relayPlugin, type RelayPluginOptions } from './fastify-plugin.js'
import { createRelayHandler, type RelayHandler, type RelayHandlerOptions } from './relay-handler.js'
import type { DepositRecord, VaultStorage } from './storage/types.js'

/** Options of a {@link VaultKit}: those of the relay handler, plus retired keys. */
export interface VaultKitOptions extends RelayHandlerOptions {
  /** Retired signing keys, still needed to verify evidence signed before a rotation. */
  verificationKeys?: PublicJwk[]
}

/** The result of {@link VaultKit.verifyDeposit}: the whole chain, re-verified. */
export interface VerifiedDeposit {
  /** The DepositAcceptance evidence this operator signed. */
  evidence: Evidence
  /** The routing node's stamp. */
  stamp: Evidence
  /** The envelope metadata, re-verified with the sender key. */
  metadata: EnvelopeMetadata
}

const invalid = (detail: string) => new TimbreError('evidence-invalid', { detail })

/**
 * A vault operator's kit.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify'
 * import { VaultKit, FsVaultStorage } from '@timbre/sdk/vault'
 *
 * const kit = new VaultKit({
 *   operatorId: 'vault-b.example', signingKey, encryptionKeys: [encKey],
 *   storage: new FsVaultStorage('/var/lib/vault'),
 *   resolveNodeKey: (iss, kid) => trustedNodes.get(iss)?.find((k) => k.kid === kid),
 * })
 * const app = Fastify()
 * await app.register(kit.fastifyPlugin())
 * const address = await kit.openAccount() // then register it in the directory
 * ```
 */
export class VaultKit {
  #options: VaultKitOptions
  #handler: RelayHandler

  constructor(options: VaultKitOptions) {
    this.#options = { ...options, encryptionKeys: [...options.encryptionKeys] }
    // Built now so that bad options fail at start, not at the first relay.
    this.#handler = createRelayHandler(this.#options)
  }

  /** This operator's id. */
  get operatorId(): string {
    return this.#options.operatorId
  }

  /** The storage deposits go to. */
  get storage(): VaultStorage {
    return this.#options.storage
  }

  /**
   * The public keys to publish at `/.well-known/jwks.json` and in the
   * directory: the signing key, retired signing keys, and the encryption keys.
   *
   * @example
   * ```ts
   * app.get('/.well-known/jwks.json', async () => kit.jwks())
   * ```
   */
  jwks(): Jwks {
    const keys = new KeySet([
      toPublicJwk(this.#options.signingKey),
      ...(this.#options.verificationKeys ?? []).map(toPublicJwk),
      ...this.#options.encryptionKeys.map(toPublicJwk),
    ])
    return { keys: keys.list() }
  }

  /**
   * The framework-agnostic relay handler.
   *
   * @example
   * ```ts
   * const relay = kit.relayHandler()
   * const res = await relay({ method: 'POST', path: '/v1/relay', headers, rawBody })
   * ```
   */
  relayHandler(): RelayHandler {
    return this.#handler
  }

  /**
   * A Fastify plugin serving `POST /v1/relay` (path configurable).
   *
   * @example
   * ```ts
   * await app.register(kit.fastifyPlugin({ path: '/v1/relay' }))
   * ```
   */
  fastifyPlugin(options: RelayPluginOptions = {}): FastifyPluginAsync<RelayPluginOptions> {
    return relayPlugin(this.#handler, options)
  }

  /**
   * Open a vault account under a new random address. Registering the
   * address in the directory is the caller's next step.
   *
   * @example
   * ```ts
   * const address = await kit.openAccount() // 'K7QM3X9R2VHD8P4N'
   * ```
   */
  async openAccount(): Promise<VaultAddress> {
    // 70 random bits make a collision all but impossible; checking costs one read.
    for (let i = 0; i < 5; i++) {
      const address = generateVaultAddress()
      if (await this.#options.storage.account(address)) continue
      await this.#options.storage.openAccount(address)
      return address
    }
    throw new TimbreError('internal-error', { detail: 'could not allocate a free vault address' })
  }

  /**
   * Every document deposited for an address, oldest first.
   *
   * @example
   * ```ts
   * for (const d of await kit.documents(address)) console.log(d.metadata.title, d.size)
   * ```
   */
  documents(address: string): Promise<DepositRecord[]> {
    return this.#options.storage.list(address)
  }

  /**
   * The bytes of one deposited document.
   *
   * @example
   * ```ts
   * const pdf = await kit.document(address, messageId)
   * ```
   */
  document(address: string, messageId: string): Promise<Uint8Array | undefined> {
    return this.#options.storage.read(address, messageId)
  }

  /**
   * Re-verify a stored deposit end to end: this operator's evidence, the
   * routing node's stamp, the sender's envelope, and the stored bytes.
   * Throws `evidence-invalid` when anything no longer matches.
   *
   * @example
   * ```ts
   * const [record] = await kit.documents(address)
   * const { evidence, stamp } = await kit.verifyDeposit(record)
   * ```
   */
  async verifyDeposit(record: DepositRecord): Promise<VerifiedDeposit> {
    const envelopeDigest = tokenDigest(record.envelope)
    const own = new KeySet([toPublicJwk(this.#options.signingKey), ...(this.#options.verificationKeys ?? [])])
    const evidence = await verifyEvidence(record.evidence, own, {
      issuer: this.operatorId,
      messageId: record.messageId,
      event: 'DepositAcceptance',
      envelopeDigest,
    })
    const stampIssuer = decodeEvidence(record.stamp).issuer
    const stamp = await verifyStamp(
      record.stamp,
      async (kid, at) => {
        const key = await this.#options.resolveNodeKey(stampIssuer, kid)
        return key ? new KeySet([key]).get(kid, at) : undefined
      },
      { issuer: stampIssuer, messageId: record.messageId, envelopeDigest },
    )
    if (evidence.previousEvidenceId !== stamp.evidenceId) throw invalid('the deposit evidence does not follow the stamp')
    if (evidence.senderKid !== stamp.senderKid || record.senderKey?.kid !== stamp.senderKid) throw invalid('the sender key differs from the stamp')
    let metadata: EnvelopeMetadata
    try {
      metadata = await verifyEnvelope(record.envelope, record.senderKey)
    } catch (cause) {
      throw new TimbreError('evidence-invalid', { detail: 'the envelope no longer verifies', cause })
    }
    if (metadata.sender !== record.sender || metadata.recipient !== record.address || metadata.messageId !== record.messageId) {
      throw invalid('the record does not match its envelope')
    }
    if (!digestEquals(evidence.contentDigest, metadata.content.digest) || !digestEquals(record.digest, metadata.content.digest)) {
      throw invalid('the digests of the record, the envelope and the evidence differ')
    }
    const bytes = await this.#options.storage.read(record.address, record.messageId)
    if (!bytes) throw invalid('the document is missing from storage')
    if (bytes.byteLength !== record.size || !digestEquals(contentDigest(bytes), record.digest)) throw invalid('the stored document changed')
    return { evidence, stamp, metadata }
  }
}
