/**
 * The nouns of portability (spec chapter 9) as the vault kit uses them: the
 * port record the directory keeps, the person's consent, and the donor's
 * decision on a pending port.
 */

/** Status of a port: `pending` until `cutoverAt`, then `completed`; or `objected` / `cancelled`. */
export type PortStatus = 'pending' | 'objected' | 'cancelled' | 'completed'

/** The reason codes a donor may object with (spec 9.4). */
export const OBJECTION_REASON_CODES = ['porting-code-invalid', 'porting-code-expired', 'porting-code-used', 'port-already-pending', 'vault-inactive'] as const

/** One objection reason code. */
export type ObjectionReasonCode = (typeof OBJECTION_REASON_CODES)[number]

/** A port as the directory holds it (port.json); never contains the code (TMB-PORT-014). */
export interface Port {
  /** UUID v7 chosen by the directory. */
  portId: string
  /** The vault address being ported. */
  address: string
  /** The operator the address leaves. */
  donor: string
  /** The new operator. */
  recipientOperator: string
  /** When the new operator filed the request. */
  requestedAt: string
  /** Last moment for an objection. */
  objectionDeadline: string
  /** From this instant the new line is valid (= `objectionDeadline`). */
  cutoverAt: string
  /** Where the port stands. */
  status: PortStatus
  /** With `objected`: the donor's coded reason. */
  reason?: { code: ObjectionReasonCode; detail?: string }
  /** Last change. */
  updatedAt?: string
}

/** The person's explicit consent, recorded by the new operator (TMB-PORT-010). */
export interface PortConsent {
  /** When the person gave it (RFC 3339). */
  givenAt: string
  /** The new operator's own reference to its record of the consent (kept 5 years). */
  reference: string
}

/** The donor's answer to a pending port: let it go (silence is consent too), or object with a coded reason. */
export type PortDecision = { accept: true } | { object: ObjectionReasonCode; detail?: string }

/** Called on the donor for each port notification of a pending port; no answer means consent. */
export type PortRequestHandler = (port: Port) => PortDecision | undefined | void | Promise<PortDecision | undefined | void>

/** A porting code just issued: show `display` to the person once, then forget it (TMB-PORT-005). */
export interface IssuedPortingCode {
  /** The address the code is bound to. */
  address: string
  /** The code in normal form (12 characters). */
  code: string
  /** The code in display form (`4ZTQ-8MWD-0RRP`). */
  display: string
  /** When it stops being usable. */
  expiresAt: string
}

/** A request as any HTTP framework hands it over (same shape as a relay request). */
export interface NodeRequest {
  /** HTTP method. */
  method: string
  /** Path and query as received (the proof's `htu`). */
  path: string
  /** Request headers, lowercase names. */
  headers: Record<string, string | string[] | undefined>
  /** The exact body bytes (the proof signs them). */
  rawBody: Uint8Array
  /** The framework's request id. */
  requestId?: string
}

/** A response to send back: status, headers and a JSON body (or none). */
export interface NodeResponse<T = unknown> {
  /** HTTP status. */
  status: number
  /** `content-type`, `x-request-id`… */
  headers: Record<string, string>
  /** JSON body, or undefined for none. */
  body: T | undefined
}
