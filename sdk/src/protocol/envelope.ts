/**
 * The envelope (TMB-ENV): sender-signed metadata in a compact JWS, and the
 * document encrypted end to end for the recipient operator in a compact JWE.
 * The JWS binds the JWE by digest, so a routing node can check integrity and
 * origin without ever being able to read the document.
 */
import { CompactEncrypt, compactDecrypt } from 'jose'
import { TimbreError } from '../errors.js'
import { utf8 } from '../internal/bytes.js'
import { peekHeader, peekPayload, signJws, verifyJws } from '../internal/jws.js'
import { contentDigest, digestEquals, tokenDigest, type Digest } from './digest.js'
import { assertVaultAddress } from './vault-address.js'
import { isOrganisationId, UUID_PATTERN, uuidv7 } from './identifiers.js'
import { CONTENT_ENCRYPTION_ALG, importKey, KEY_AGREEMENT_ALG, type PrivateJwk, type PublicJwk } from './keys.js'
import type { KeyResolver } from './key-set.js'

/** `typ` of the envelope JWS. */
export const ENVELOPE_TYP = 'timbre-envelope+jws'
/** `typ` of the content JWE. */
export const CONTENT_TYP = 'timbre-content+jwe'

/** The registry of document types (TMB-ENV). New types come with a spec revision. */
export const DOCUMENT_TYPES = ['payslip', 'invoice', 'statement', 'contract', 'tax-notice', 'other'] as const
/** One registered document type. */
export type DocumentType = (typeof DOCUMENT_TYPES)[number]

/** The signed metadata of a document, as the sender states it. */
export interface EnvelopeMetadata {
  v: 1
  messageId: string
  sender: string
  recipient: string
  documentType: DocumentType
  title: string
  issueDate?: string
  retentionHint?: string
  senderReference?: string
  content: { mediaType: string; size: number; digest: Digest }
  contentJweDigest: string
  recipientKid: string
  createdAt: string
}

/** What a sender provides to seal a document. */
export interface SealInput {
  messageId?: string
  sender: string
  recipient: string
  documentType: DocumentType
  title: string
  issueDate?: string
  retentionHint?: string
  senderReference?: string
  mediaType: string
  document: Uint8Array | string
  /** The sender's Ed25519 private key. */
  senderKey: PrivateJwk
  /** The recipient operator's X25519 public key, from the directory. */
  recipientKey: PublicJwk
  now?: Date
}

/** A sealed document, ready to submit. */
export interface SealedEnvelope {
  envelope: string
  content: string
  metadata: EnvelopeMetadata
}

const envelopeInvalid = (detail: string) => new TimbreError('envelope-invalid', { detail })

/**
 * Encrypt a document for the recipient operator and sign its envelope.
 *
 * @example
 * ```ts
 * const sealed = await sealEnvelope({
 *   sender: '0009:12345678900011', recipient: 'K7QM3X9R2VHD8P7H',
 *   documentType: 'payslip', title: 'Payslip November 2026',
 *   mediaType: 'application/pdf', document: pdfBytes,
 *   senderKey, recipientKey,
 * })
 * // POST { envelope: sealed.envelope, content: sealed.content }
 * ```
 */
export async function sealEnvelope(input: SealInput): Promise<SealedEnvelope> {
  const recipient = assertVaultAddress(input.recipient)
  if (!isOrganisationId(input.sender)) throw envelopeInvalid('sender must be an ISO 6523 icd:value id')
  if (input.recipientKey.crv !== 'X25519') throw envelopeInvalid('the recipient key must be an X25519 key')
  const bytes = typeof input.document === 'string' ? utf8(input.document) : input.document
  const content = await new CompactEncrypt(bytes)
    .setProtectedHeader({
      alg: KEY_AGREEMENT_ALG,
      enc: CONTENT_ENCRYPTION_ALG,
      typ: CONTENT_TYP,
      kid: input.recipientKey.kid,
      cty: input.mediaType,
    })
    .encrypt(await importKey(input.recipientKey, KEY_AGREEMENT_ALG))
  const metadata: EnvelopeMetadata = {
    v: 1,
    messageId: input.messageId ?? uuidv7(),
    sender: input.sender,
    recipient,
    documentType: input.documentType,
    title: input.title,
    ...(input.issueDate ? { issueDate: input.issueDate } : {}),
    ...(input.retentionHint ? { retentionHint: input.retentionHint } : {}),
    ...(input.senderReference ? { senderReference: input.senderReference } : {}),
    content: { mediaType: input.mediaType, size: bytes.byteLength, digest: contentDigest(bytes) },
    contentJweDigest: tokenDigest(content),
    recipientKid: input.recipientKey.kid,
    createdAt: (input.now ?? new Date()).toISOString(),
  }
  const envelope = await signJws(metadata, ENVELOPE_TYP, input.senderKey)
  return { envelope, content, metadata }
}

function checkMetadataShape(m: EnvelopeMetadata): void {
  if (m.v !== 1) throw envelopeInvalid('unsupported envelope version')
  if (typeof m.messageId !== 'string' || !UUID_PATTERN.test(m.messageId)) throw envelopeInvalid('messageId must be a UUID')
  if (typeof m.sender !== 'string' || !isOrganisationId(m.sender)) throw envelopeInvalid('bad sender id')
  if (typeof m.recipient !== 'string') throw envelopeInvalid('recipient is missing')
  if (assertVaultAddress(m.recipient) !== m.recipient) throw envelopeInvalid('recipient is not in normal form')
  if (!DOCUMENT_TYPES.includes(m.documentType)) throw envelopeInvalid('unknown document type')
  const c = m.content
  if (!c || typeof c.mediaType !== 'string' || !Number.isInteger(c.size) || c.size < 0 || c.digest?.alg !== 'sha-256') {
    throw envelopeInvalid('content description is malformed')
  }
  if (typeof m.contentJweDigest !== 'string' || typeof m.recipientKid !== 'string') throw envelopeInvalid('content binding is missing')
}

/**
 * Read the envelope metadata WITHOUT verifying it (for routing and logs).
 *
 * @example
 * ```ts
 * const meta = peekEnvelope(body.envelope)
 * ```
 */
export function peekEnvelope(envelope: string): EnvelopeMetadata | undefined {
  return peekPayload<EnvelopeMetadata>(envelope)
}

/**
 * Verify an envelope's signature, shape and binding to its content JWE.
 *
 * @example
 * ```ts
 * const meta = await verifyEnvelope(body.envelope, () => senderPublicKey, body.content)
 * ```
 */
export async function verifyEnvelope(
  envelope: string,
  senderKey: PublicJwk | KeyResolver,
  contentJwe?: string,
): Promise<EnvelopeMetadata> {
  const resolveKey: KeyResolver = typeof senderKey === 'function' ? senderKey : (kid) => (kid === senderKey.kid ? senderKey : undefined)
  const { payload } = await verifyJws<EnvelopeMetadata>(envelope, { typ: ENVELOPE_TYP, resolveKey, code: 'envelope-invalid' })
  checkMetadataShape(payload)
  if (contentJwe !== undefined) checkEnvelopeContent(payload, contentJwe)
  return payload
}

/**
 * The binding of a content JWE to metadata already verified with
 * {@link verifyEnvelope}: its digest and its header. Lets a verifier check
 * the signature once and the content later, without verifying it twice.
 *
 * @example
 * ```ts
 * const meta = await verifyEnvelope(body.envelope, senderKey)
 * checkEnvelopeContent(meta, body.content)
 * ```
 */
export function checkEnvelopeContent(meta: EnvelopeMetadata, contentJwe: string): void {
  if (tokenDigest(contentJwe) !== meta.contentJweDigest) {
    throw new TimbreError('content-digest-mismatch', { detail: 'the content JWE does not match contentJweDigest' })
  }
  const header = peekHeader(contentJwe)
  if (!header || header.typ !== CONTENT_TYP || header.alg !== KEY_AGREEMENT_ALG || header.enc !== CONTENT_ENCRYPTION_ALG) {
    throw envelopeInvalid('the content JWE header is not allowed')
  }
  if (header.kid !== meta.recipientKid) throw envelopeInvalid('the content JWE kid differs from recipientKid')
}

/**
 * Decrypt the content with the operator's X25519 key and check its size and
 * digest against the verified envelope (TMB-RLY).
 *
 * @example
 * ```ts
 * const bytes = await openContent(body.content, meta, (kid) => myKeys.find((k) => k.kid === kid))
 * ```
 */
export async function openContent(
  contentJwe: string,
  metadata: EnvelopeMetadata,
  decryptionKey: PrivateJwk | ((kid: string) => PrivateJwk | undefined),
): Promise<Uint8Array> {
  const header = peekHeader(contentJwe)
  if (!header || header.typ !== CONTENT_TYP || header.alg !== KEY_AGREEMENT_ALG || header.enc !== CONTENT_ENCRYPTION_ALG) {
    throw new TimbreError('content-undecryptable', { detail: 'the content JWE header is not allowed' })
  }
  const kid = String(header.kid)
  const key = typeof decryptionKey === 'function' ? decryptionKey(kid) : decryptionKey.kid === kid ? decryptionKey : undefined
  if (!key) throw new TimbreError('content-undecryptable', { detail: `no decryption key with kid ${kid}` })
  let plaintext: Uint8Array
  try {
    const result = await compactDecrypt(contentJwe, await importKey(key, KEY_AGREEMENT_ALG), {
      keyManagementAlgorithms: [KEY_AGREEMENT_ALG],
      contentEncryptionAlgorithms: [CONTENT_ENCRYPTION_ALG],
    })
    plaintext = result.plaintext
  } catch (cause) {
    throw new TimbreError('content-undecryptable', { detail: 'decryption failed', cause })
  }
  if (plaintext.byteLength !== metadata.content.size || !digestEquals(contentDigest(plaintext), metadata.content.digest)) {
    throw new TimbreError('content-digest-mismatch', { detail: 'the decrypted document does not match the signed digest' })
  }
  return plaintext
}
