// Operator authentication of the admin API: `Authorization: Bearer <token>`,
// compared in constant time (hashing both sides first makes lengths equal
// and keeps the comparison free of early exits).
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { NodeError } from '../errors.js'
import { sendProblem } from './problem.js'

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest()

/** An onRequest hook refusing calls without the admin token (before any body is read). */
export function adminAuth(token: string | null) {
  const expected = token === null ? null : digest(token)
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization
    const match = typeof header === 'string' ? /^Bearer ([\x21-\x7e]+)$/i.exec(header.trim()) : null
    if (expected && match && timingSafeEqual(digest(match[1]!), expected)) return
    reply.header('www-authenticate', 'Bearer realm="timbre-admin"')
    await sendProblem(request, reply, new NodeError('admin-unauthorized', {
      detail: match ? 'the admin token is not valid' : 'send Authorization: Bearer <admin token>',
    }))
  }
}
