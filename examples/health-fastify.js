// Memory-aware health checks in a Fastify service (install fastify yourself; leak-agent does not
// depend on it). Start with: node -r leak-agent examples/health-fastify.js
'use strict';
const fastify = require('fastify')();
const agent = require('leak-agent');

// The ready-made handler writes Node's raw response: hand it Fastify's raw req/res.
const handler = agent.healthHandler();
fastify.get('/health', (request, reply) => {
  reply.hijack();
  handler(request.raw, reply.raw);
});

// Or with Fastify's own reply: 503 when critical.
fastify.get('/ready', (request, reply) => {
  const h = agent.health();
  reply.code(h.status === 'critical' ? 503 : 200).send(h);
});

fastify.listen({ port: Number(process.env.PORT ?? 3000), host: '0.0.0.0' });
