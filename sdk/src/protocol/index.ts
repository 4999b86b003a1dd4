/**
 * The protocol's nouns: vault addresses, identifiers, keys, envelopes,
 * evidence and stamps, request proofs, directory lines, webhooks, schemas.
 * @module
 */
export * from './vault-address.js'
export * from './identifiers.js'
export * from './digest.js'
export * from './keys.js'
export { KeySet, type KeyResolver } from './key-set.js'
export * from './envelope.js'
export {
  EVIDENCE_TYP,
  EVIDENCE_EVENTS,
  signEvidence,
  decodeEvidence,
  verifyEvidence,
  verifyStamp,
  finalStatusOf,
  FINAL_STATUSES,
  type Evidence,
  type EvidenceEvent,
  type EvidenceInput,
  type EvidenceExpectations,
  type DeliveryStatus,
  type TrustedKeys,
} from './evidence.js'
export * from './request-auth.js'
export * from './directory-line.js'
export * from './webhook.js'
export { specAjv, schemaId, schemaValidator, assertSchema, type SchemaError } from './schemas.js'
export * from './porting-code.js'
export * from './archive.js'
export * from './statement.js'
