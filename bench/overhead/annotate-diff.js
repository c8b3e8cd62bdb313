// Where a configuration's extra instructions go: callgrind_annotate (self cost per function) of two
// callgrind files, the second minus the first, largest increases first. JIT-compiled JavaScript has no
// symbols under callgrind and shows as "???"; V8 builtins, the bytecode handlers, the addon and libc do.
// Usage: node bench/overhead/annotate-diff.js <base.callgrind> <with-agent.callgrind> [top=30]
//    or: node bench/overhead/annotate-diff.js <off-N> <off-2N> <agent-N> <agent-2N> [top=30]
'use strict';
const { execFileSync } = require('node:child_process');

function selfCost(file) {
  const out = execFileSync('callgrind_annotate', ['--inclusive=no', '--threshold=100', '--auto=no', file], { maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' });
  const costs = new Map();
  let total = 0;
  for (const line of out.split('\n')) {
    const t = /^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?PROGRAM TOTALS/.exec(line);
    if (t) { total = Number(t[1].replace(/,/g, '')); continue; }
    const m = /^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(\S.*)$/.exec(line);
    if (!m || /PROGRAM TOTALS|^Ir\b/.test(m[2])) continue;
    const fn = m[2].replace(/\s+\[[^\]]*\]$/, '').replace(/^[^:]*:/, (f) => (f.startsWith('???') ? '' : f));
    costs.set(fn, (costs.get(fn) || 0) + Number(m[1].replace(/,/g, '')));
  }
  return { costs, total };
}

// With four files (off N, off 2N, agent N, agent 2N) it diffs the steady states: (agent 2N − agent N)
// − (off 2N − off N), so the start-up (parse and compile of the agent's code) drops out.
const argv = process.argv.slice(2);
const files = argv.filter((a) => !/^\d+$/.test(a));
const topArg = argv.find((a) => /^\d+$/.test(a));
function minus(a, b) {
  const costs = new Map(a.costs);
  for (const [fn, ir] of b.costs) costs.set(fn, (costs.get(fn) || 0) - ir);
  return { costs, total: a.total - b.total };
}
const [base, agent] = files.length === 4
  ? [minus(selfCost(files[1]), selfCost(files[0])), minus(selfCost(files[3]), selfCost(files[2]))]
  : [selfCost(files[0]), selfCost(files[1])];
const diff = [];
for (const [fn, ir] of agent.costs) diff.push([fn, ir - (base.costs.get(fn) || 0)]);
diff.sort((a, b) => b[1] - a[1]);
const d = agent.total - base.total;
console.log(`total: ${(base.total / 1e6).toFixed(1)} M -> ${(agent.total / 1e6).toFixed(1)} M (+${(d / 1e6).toFixed(1)} M)`);
// Coarse buckets by symbol, so the shape is visible without reading hundreds of lines.
const BUCKETS = [
  ['parse + compile JS', /Scanner|Parser|AstValueFactory|Utf16CharacterStream|interpreter::Bytecode|compiler::|Deserializer|Compiler::|Preparse|ScopeInfo|FunctionLiteral|AstNode|Scope::/],
  ['GC (scavenge, mark-compact)', /Scaveng|MarkCompact|Marking|Sweep|Heap::|heap::base|Evacuat|IteratePointers|Concurrent/],
  ['sampling heap profiler', /SamplingHeapProfiler|AllocationObserver|SamplingAllocation/],
  ['heap statistics (GetHeapSpaceStatistics, memoryUsage)', /HeapSpaceStatistics|GetHeapStatistics|MemoryUsage|CommittedMemory|SizeOfObjects|uv_resident|uv_get_/],
  ['addon', /leak_agent|LeakAgent|sampler::|Recorder|Ring/],
  ['interpreted / builtins JS', /^Builtins_/],
  ['JIT code (JS, no symbols)', /^0x|^\?\?\?/],
  ['libc / kernel', /malloc|free|memmove|memcpy|memset|syscall|read|open|close/],
];
const buckets = new Map(BUCKETS.map(([n]) => [n, 0]));
buckets.set('other', 0);
for (const [fn, ir] of diff) {
  const b = BUCKETS.find(([, re]) => re.test(fn));
  buckets.set(b ? b[0] : 'other', buckets.get(b ? b[0] : 'other') + ir);
}
for (const [name, ir] of buckets) console.log(`${(ir / 1e6).toFixed(2).padStart(9)} M  ${((ir / d) * 100).toFixed(1).padStart(5)} %  [${name}]`);
console.log('top functions:');
for (const [fn, ir] of diff.slice(0, Number(topArg || 30))) {
  console.log(`${(ir / 1e6).toFixed(2).padStart(9)} M  ${((ir / d) * 100).toFixed(1).padStart(5)} %  ${fn.slice(0, 140)}`);
}
