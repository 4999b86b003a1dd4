/**
 * The Timbre SDK: protocol nouns, the sender client, the vault kit, and
 * offline verification of evidence.
 * @module
 */
export * from './errors.js'
export * from './protocol/index.js'
