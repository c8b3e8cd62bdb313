import * as fs from 'node:fs';
import * as path from 'node:path';

/** The package version, read once from package.json beside dist/ (works from src/ under vitest too). */
export const AGENT_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
})();
