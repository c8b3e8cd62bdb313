// The deterministic GC-heavy loop that bench/overhead-callgrind.js runs under callgrind: builds JSON
// objects, serializes and parses them, and drops them. Yields to the event loop every CHUNK
// iterations so the agent's timer and callbacks run as they would in a service.
// Usage: node [-r leak-agent] bench/overhead/workload.js <iterations>
'use strict';
const total = Number(process.argv[2] || 30000);
const CHUNK = 500;
let sink = 0;

function one(i) {
  const order = { id: i, customer: { name: 'customer-' + (i % 97), tags: ['a', 'b', 'c', String(i % 13)] }, lines: [] };
  for (let k = 0; k < 12; k++) order.lines.push({ sku: 'sku-' + ((i * 31 + k) % 1000), qty: k % 5, price: (k * 1.25) + (i % 7) });
  const text = JSON.stringify(order);
  sink += JSON.parse(text).lines.length + text.length;
}

let i = 0;
function chunk() {
  const end = Math.min(total, i + CHUNK);
  for (; i < end; i++) one(i);
  if (i < total) setImmediate(chunk);
  else if (process.env.WORKLOAD_REPORT) process.stdout.write(JSON.stringify({ iterations: total, sink }) + '\n');
}
chunk();
