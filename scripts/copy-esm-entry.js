// Writes dist/index.mjs: the ESM face of the CommonJS build, so `import 'leak-agent'` and
// `node --import leak-agent` load the very same agent instance as `require('leak-agent')`.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const out = path.join(__dirname, '..', 'dist', 'index.mjs');
fs.writeFileSync(out, `import agent from './index.js';
export const { status, snapshot, stop, on, off, health, healthHandler, onMitigate, MITIGATION_EXIT_CODE } = agent;
export default agent;
`);
