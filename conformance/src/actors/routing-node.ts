/**
 * The simulated routing node: signs stamps (SubmissionAcceptance evidence)
 * and request proofs with the suite key, as the operator the target trusts.
 */
import { createHash } from 'node:crypto'
import {
  signEvidence,
  createRequestProof,
  tokenDigest,
  uuidv7,
  type PrivateJwk,
  type EnvelopeMetadata,
  type EvidenceInput,
} from '@timbre/sdk'
import { signRaw, unsignedJws, tamperSignature } from './jws.js'

/** Ways to spoil a request proof. */
export interface ProofOverrides {
  iss?: string
  aud?: string
  htm?: string
  htu?: string
  iat?: number
  exp?: number
  jti?: string
  bdg?: string
  /** Sign with another key (its kid goes in the header). */
  key?: PrivateJwk
  typ?: string
  alg?: 'none'
  tamper?: boolean
  /** Claims to drop. */
  omit?: string[]
}

export class SimulatedRoutingNode {
  constructor(
    readonly operatorId: string,
    readonly key: PrivateJwk,
  ) {}

  /** A stamp for a sealed envelope, as this node would issue at acceptance. */
  async stamp(
    sealed: { envelope: string; metadata: EnvelopeMetadata },
    recipientOperator: string,
    overrides: Partial<EvidenceInput> = {},
    key: PrivateJwk = this.key,
  ): Promise<string> {
    const m = sealed.metadata
    const { jws } = await signEvidence(
      {
        event: 'SubmissionAcceptance',
        issuer: this.operatorId,
        messageId: m.messageId,
        sender: m.sender,
        recipient: m.recipient,
        contentDigest: m.content.digest,
        envelopeDigest: tokenDigest(sealed.envelope),
        senderKid: JSON.parse(Buffer.from(sealed.envelope.split('.')[0]!, 'base64url').toString()).kid,
        recipientOperator,
        stampClass: 'standard',
        ...overrides,
      },
      key,
    )
    return jws
  }

  /** The `Authorization` header value for a request, optionally spoiled. */
  async proof(aud: string, method: string, path: string, body: string | Uint8Array | undefined, o: ProofOverrides = {}): Promise<string> {
    if (Object.keys(o).length === 0) return createRequestProof({ key: this.key, iss: this.operatorId, aud, method, path, body: body ?? '' })
    const key = o.key ?? this.key
    const iat = o.iat ?? Math.floor(Date.now() / 1000)
    const claims: Record<string, unknown> = {
      iss: o.iss ?? this.operatorId,
      aud: o.aud ?? aud,
      htm: o.htm ?? method.toUpperCase(),
      htu: o.htu ?? path,
      iat,
      exp: o.exp ?? iat + 120,
      jti: o.jti ?? uuidv7(),
      bdg: o.bdg ?? createHash('sha256').update(body ?? '').digest('base64url'),
    }
    for (const c of o.omit ?? []) delete claims[c]
    const header = { typ: o.typ ?? 'timbre-request+jwt', kid: key.kid }
    let token = o.alg === 'none' ? unsignedJws(claims, header) : await signRaw(claims, header, key)
    if (o.tamper) token = tamperSignature(token)
    return `Timbre ${token}`
  }
}
