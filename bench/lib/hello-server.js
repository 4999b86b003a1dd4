// Ceiling servers: a Fastify hello-world GET and a Fastify POST of a JSON body
// validated by a schema (the HTTP ceiling for a submission-sized request).
import Fastify from 'fastify'

const app = Fastify({ logger: false, bodyLimit: 1 << 20 })
app.get('/hello', async () => ({ hello: 'world' }))
app.post(
  '/validated',
  {
    schema: {
      body: {
        type: 'object',
        required: ['envelope', 'content'],
        additionalProperties: false,
        properties: {
          envelope: { type: 'string', pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$', maxLength: 65536 },
          content: { type: 'string', pattern: '^[A-Za-z0-9_-]*(\\.[A-Za-z0-9_-]*){4}$', maxLength: 1048576 },
        },
      },
    },
  },
  async (req, reply) => reply.code(202).send({ accepted: true }),
)
await app.listen({ port: 0, host: '127.0.0.1' })
process.send({ ready: true, url: `http://127.0.0.1:${app.server.address().port}` })
process.on('SIGTERM', () => app.close().then(() => process.exit(0)))
