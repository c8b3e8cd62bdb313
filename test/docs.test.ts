/**
 * The documentation is part of the product: the README's configuration table names every variable
 * the agent reads, each guarantee names a test that exists, links resolve, and no development
 * history ("session N", "issue N") is left in docs, code, tests or fixtures.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

function filesUnder(dir: string, keep: (file: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    if (!fs.existsSync(d)) return;
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (keep(p)) out.push(p);
    }
  };
  walk(path.join(ROOT, dir));
  return out;
}

/** The README section under `## heading`, up to the next `## `. */
function section(heading: string): string {
  const start = README.indexOf(`\n## ${heading}\n`);
  expect(start, `README has a "## ${heading}" section`).toBeGreaterThan(-1);
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end === -1 ? undefined : end);
}

describe('README', () => {
  it('lists every LEAK_AGENT_* variable the agent reads in its configuration table', () => {
    const read = new Set<string>();
    for (const file of filesUnder('src', (f) => f.endsWith('.ts'))) {
      // Not preceded by "_" or a letter: skips placeholders such as __LEAK_AGENT_KEY__.
      for (const m of fs.readFileSync(file, 'utf8').matchAll(/(?<![A-Za-z0-9_])LEAK_AGENT_[A-Z0-9_]*[A-Z0-9]/g)) read.add(m[0]);
    }
    expect(read.size).toBeGreaterThan(10);
    const table = section('Configuration');
    const missing = [...read].filter((v) => !new RegExp(`\`${v}\``).test(table));
    expect(missing, 'variables read in src/ but missing from the README configuration table').toEqual([]);
  });

  it('names, for each guarantee, a test file that exists and a test title found in it', () => {
    const lines = section('What the agent will never do').split('\n').filter((l) => l.startsWith('- '));
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) {
      const files = [...line.matchAll(/`(test\/[^`]+\.test\.ts)`/g)].map((m) => m[1] as string);
      expect(files.length, `a test file is named in: ${line}`).toBeGreaterThan(0);
      const sources = files.map((f) => {
        expect(fs.existsSync(path.join(ROOT, f)), `${f} exists`).toBe(true);
        return fs.readFileSync(path.join(ROOT, f), 'utf8');
      });
      // Quoted titles, possibly shortened with "…": the part before the ellipsis is in one of the files.
      for (const m of line.matchAll(/"([^"]+)"/g)) {
        const title = (m[1] as string).replace(/…$/, '').trim();
        expect(sources.some((s) => s.includes(title)), `test title "${title}" found in ${files.join(', ')}`).toBe(true);
      }
    }
  });

  it('links only to files that exist', () => {
    const docs = [path.join(ROOT, 'README.md'), ...filesUnder('docs', (f) => f.endsWith('.md'))];
    for (const doc of docs) {
      for (const m of fs.readFileSync(doc, 'utf8').matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
        const target = m[1] as string;
        if (/^[a-z]+:/.test(target)) continue; // http:, file:, …
        expect(fs.existsSync(path.resolve(path.dirname(doc), target)), `${path.relative(ROOT, doc)} links to ${target}`).toBe(true);
      }
    }
  });
});

describe('no development history in the product', () => {
  it('no "session N", "issue N" or "earlier code" in docs, source, tests, benchmarks, examples or scripts', () => {
    const self = path.join(ROOT, 'test/docs.test.ts');
    const text = (f: string): boolean => /\.(ts|js|mjs|cjs|cc|h|md|json|gyp|sh)$/.test(f) || path.basename(f) === 'run';
    const files = [path.join(ROOT, 'README.md'), ...['docs', 'src', 'test', 'bench', 'examples', 'scripts', 'native', '.ci'].flatMap((d) =>
      d === '.ci' ? [path.join(ROOT, '.ci/run')].filter((f) => fs.existsSync(f)) : filesUnder(d, text),
    )].filter((f) => f !== self);
    expect(files.length).toBeGreaterThan(50);
    // Work units and "before/after" narration name when something was built, not what it is.
    const history = /\b((?:this|previous) sess\w*|sess\w* \d+|issue #?\d+|earlier code)\b/i;
    const found: string[] = [];
    for (const f of files) {
      fs.readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
        if (history.test(line)) found.push(`${path.relative(ROOT, f)}:${i + 1}: ${line.trim().slice(0, 120)}`);
      });
    }
    expect(found).toEqual([]);
  });
});
