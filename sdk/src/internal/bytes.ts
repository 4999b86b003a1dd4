import { createHash } from 'node:crypto'
import { base64url } from 'jose'

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

export function utf8(text: string): Uint8Array {
  return encoder.encode(text)
}

export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes)
}

export function b64u(bytes: Uint8Array | string): string {
  return base64url.encode(bytes)
}

export function fromB64u(text: string): Uint8Array {
  return base64url.decode(text)
}

/** base64url SHA-256 of bytes, or of the UTF-8 bytes of a string. */
export function sha256b64u(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('base64url')
}
