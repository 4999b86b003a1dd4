/**
 * The simulated sender: an organisation with its own Ed25519 key that seals
 * documents for the target operator's X25519 key, and can forge faulty
 * envelopes for negative tests.
 */
import {
  sealEnvelope,
  generateSigningKey,
  toPublicJwk,
  tokenDigest,
  contentDigest,
  uuidv7,
  type PrivateJwk,
  type PublicJwk,
  type SealedEnvelope,
  type EnvelopeMetadata,
  type DocumentType,
} from '@timbre/sdk'
import { signRaw, encryptRaw } from './jws.js'

export interface SealOptions {
  recipient: string
  recipientKey: PublicJwk
  messageId?: string
  document?: string | Uint8Array
  documentType?: DocumentType
  title?: string
  issueDate?: string
  senderReference?: string
}

export class SimulatedSender {
  constructor(
    readonly id: string,
    readonly key: PrivateJwk,
  ) {}

  static async create(id = '0009:CONFORMANCE01', key?: PrivateJwk): Promise<SimulatedSender> {
    return new SimulatedSender(id, key ?? (await generateSigningKey()))
  }

  get publicKey(): PublicJwk {
    return toPublicJwk(this.key)
  }

  /** A well-formed sealed document. */
  seal(o: SealOptions): Promise<SealedEnvelope> {
    return sealEnvelope({
      sender: this.id,
      recipient: o.recipient,
      documentType: o.documentType ?? 'payslip',
      title: o.title ?? 'Timbre conformance test document',
      issueDate: o.issueDate ?? new Date().toISOString().slice(0, 10),
      retentionHint: 'P50Y',
      senderReference: o.senderReference ?? 'CONF-' + Math.random().toString(36).slice(2, 10),
      mediaType: 'text/plain',
      document: o.document ?? `Conformance document ${uuidv7()}\n`,
      senderKey: this.key,
      recipientKey: o.recipientKey,
      ...(o.messageId ? { messageId: o.messageId } : {}),
    })
  }

  /** Re-sign (possibly altered) metadata with this sender's key and any header. */
  async resign(metadata: unknown, header: Record<string, unknown> = {}, key: PrivateJwk = this.key): Promise<string> {
    return signRaw(metadata, { typ: 'timbre-envelope+jws', kid: key.kid, ...header }, key)
  }

  /**
   * Seal with a JWE protected header of the caller's choice; the envelope is
   * otherwise valid (binds the faulty JWE by digest).
   */
  async sealWithJweHeader(o: SealOptions, jweHeader: Record<string, unknown>): Promise<SealedEnvelope> {
    const bytes = new TextEncoder().encode(typeof o.document === 'string' ? o.document : `Conformance document ${uuidv7()}\n`)
    const content = await encryptRaw(bytes, { typ: 'timbre-content+jwe', kid: o.recipientKey.kid, cty: 'text/plain', ...jweHeader }, o.recipientKey)
    const base = await this.seal(o)
    const metadata: EnvelopeMetadata = {
      ...base.metadata,
      content: { mediaType: 'text/plain', size: bytes.byteLength, digest: contentDigest(bytes) },
      contentJweDigest: tokenDigest(content),
    }
    return { envelope: await this.resign(metadata), content, metadata }
  }
}
