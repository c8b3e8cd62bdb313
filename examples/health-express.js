// Memory-aware health checks in an Express service (install express yourself; leak-agent does not
// depend on it). Start with: node -r leak-agent examples/health-express.js
//
// GET /health answers 200 while memory is ok or degraded and 503 when critical, with the JSON of
// agent.health() as body: a readiness probe on it takes the instance out of rotation before the
// kernel OOM-kills it.
'use strict';
const express = require('express');
const agent = require('leak-agent');

const app = express();
app.get('/health', agent.healthHandler());

// Or decide yourself, e.g. fail readiness already at `degraded`:
app.get('/ready', (req, res) => {
  const h = agent.health();
  res.status(h.status === 'ok' ? 200 : 503).json(h);
});

app.get('/', (req, res) => res.send('hello\n'));
app.listen(Number(process.env.PORT ?? 3000));
