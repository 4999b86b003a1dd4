import { startChild } from '../lib/child.js'
import { load } from '../lib/load.js'
import { step } from '../lib/progress.js'
import { ed25519Rates } from '../lib/crypto-rates.js'

const server = new URL('../lib/hello-server.js', import.meta.url).pathname

/** A 10 KB submission-shaped body (base64url parts, as a real submission). */
export function tenKbBody() {
  const part = (n) => Buffer.alloc(n, 7).toString('base64url')
  return JSON.stringify({ envelope: `${part(40)}.${part(700)}.${part(64)}`, content: `${part(60)}.${part(40)}.${part(12)}.${part(10_000 - 900)}.${part(16)}` })
}

export async function ceilings({ duration }) {
  const srv = await startChild(server)
  try {
    let s = step('ceiling: Fastify hello-world GET')
    const hello = await load({ url: `${srv.url}/hello`, duration }, (n) => s.update(`${n} requests`))
    s.done(`${Math.round(hello.requestsPerSecond)} req/s`)
    const body = tenKbBody()
    s = step('ceiling: Fastify POST 10 KB JSON with schema')
    const post = await load(
      { url: `${srv.url}/validated`, method: 'POST', headers: { 'content-type': 'application/json' }, body, duration },
      (n) => s.update(`${n} requests`),
    )
    s.done(`${Math.round(post.requestsPerSecond)} req/s`)
    s = step('ceiling: Ed25519 sign/verify (jose, 64 in flight)')
    const ed = await ed25519Rates(Math.max(1, Math.min(duration, 3)))
    s.done(`${ed.signPerSecond} sign/s, ${ed.verifyPerSecond} verify/s`)
    return {
      helloGet: hello,
      validatedPost10k: post,
      ed25519: ed,
      summary: {
        helloGetPerSecond: Math.round(hello.requestsPerSecond),
        validatedPost10kPerSecond: Math.round(post.requestsPerSecond),
        ed25519SignPerSecond: ed.signPerSecond,
        ed25519VerifyPerSecond: ed.verifyPerSecond,
      },
    }
  } finally {
    await srv.stop()
  }
}
