/**
 * The service an episode belongs to: `OTEL_SERVICE_NAME`, else `service.name` in
 * `OTEL_RESOURCE_ATTRIBUTES`, else the name in the application's package.json (found from the main
 * module upward, then from the working directory), else OpenTelemetry's `unknown_service:node`.
 * The version comes from `service.version` in `OTEL_RESOURCE_ATTRIBUTES` or that package.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ServiceInfo {
  name: string;
  version: string | null;
}

export function readServiceInfo(env: Record<string, string | undefined> = process.env): ServiceInfo {
  const attrs = parseResourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES ?? '');
  const pkg = findAppPackage();
  const name = env.OTEL_SERVICE_NAME?.trim() || attrs['service.name'] || pkg?.name || 'unknown_service:node';
  const version = attrs['service.version'] || pkg?.version || null;
  return { name, version };
}

/** `key=value,key2=value2`, values percent-encoded (W3C Baggage style, as the OTel spec says). */
function parseResourceAttributes(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    try {
      out[part.slice(0, eq).trim()] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      /* a malformed value is ignored, not fatal */
    }
  }
  return out;
}

function findAppPackage(): { name?: string; version?: string } | undefined {
  const starts = [require.main?.filename, process.argv[1]].filter((p): p is string => typeof p === 'string').map((p) => path.dirname(p));
  starts.push(process.cwd());
  for (const start of starts) {
    let dir = path.resolve(start);
    for (let i = 0; i < 32; i++) {
      // Our own package.json (and any dependency's) is not the application's.
      if (path.basename(path.dirname(dir)) !== 'node_modules') {
        try {
          const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
          if (typeof pkg.name === 'string' && pkg.name !== '') {
            return { name: pkg.name, version: typeof pkg.version === 'string' ? pkg.version : undefined };
          }
        } catch {
          /* none here: keep walking up */
        }
      }
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return undefined;
}
