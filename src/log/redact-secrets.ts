/**
 * The one redaction the agent applies to everything it reports: every agent-log line (logger.ts),
 * status(), the configuration problems it names, the telemetry resource and alert records.
 *
 * What can carry a secret in this agent's configuration: URL userinfo (`user:pass@`), query strings
 * and fragments (presigned URLs, `?api_key=`, `#access_token=`), and header values
 * (`*_HEADERS`). Those are replaced by `***`; host, port, path and header names stay, so a line
 * still says where the agent tried to go. The patterns work on free text too, so a library's error
 * message that quotes a URL is cleaned the same way, and a value that is not a well-formed URL
 * (the very case a configuration problem reports) is cleaned without being parsed.
 */

const MASK = '***';

/** `scheme://userinfo@` — userinfo ends at the last `@` before the first `/`, `?` or `#`. */
const SCHEME_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^/?#\s"'<>]*@/gi;
/** `user:pass@host` without a scheme (a mistyped URL). */
const BARE_USERINFO = /(^|[\s"'(=,])[^\s"'()=,/@:]+:[^\s"'@/]*@(?=[^\s"'@])/g;
/** `?k=v&k2=v2` and `&k=v`: keep each key, hide each value; a bare `?token` hides the token. */
const QUERY = /\?([^\s"'<>#]*)/g;
const FRAGMENT = /(\/\/[^\s"'<>]*)#[^\s"'<>]*/g;

function maskQuery(query: string): string {
  if (query === '') return '?';
  return '?' + query.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    return eq < 0 ? MASK : `${pair.slice(0, eq)}=${MASK}`;
  }).join('&');
}

/** Hides URL userinfo, query values and fragments wherever they appear in `text`. */
export function redactSecrets(text: string): string {
  if (!text.includes('@') && !text.includes('?') && !text.includes('#')) return text;
  return text
    .replace(SCHEME_USERINFO, `$1${MASK}@`)
    .replace(BARE_USERINFO, `$1${MASK}@`)
    .replace(FRAGMENT, `$1#${MASK}`)
    .replace(QUERY, (_m, q: string) => maskQuery(q));
}

/**
 * A configuration value as it may be shown: header lists keep their names only (a pair that is
 * not `name=value` is hidden whole, since it may be `Authorization: Bearer …`); everything else
 * through redactSecrets.
 */
export function redactConfigValue(variable: string, value: string): string {
  if (/_HEADERS$/.test(variable)) {
    return value.split(',').map((part) => {
      const eq = part.indexOf('=');
      const name = eq < 0 ? '' : part.slice(0, eq).trim();
      return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) ? `${name}=${MASK}` : MASK;
    }).join(',');
  }
  return redactSecrets(value);
}

/** A copy of `value` with every string inside it redacted (plain objects and arrays; bounded depth). */
export function redactDeep<T>(value: T, depth = 8): T {
  if (typeof value === 'string') return redactSecrets(value) as T;
  if (value === null || typeof value !== 'object' || depth <= 0) return value;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth - 1)) as T;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = redactDeep(v, depth - 1);
  return out as T;
}
