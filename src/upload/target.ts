/**
 * Where evidence goes, parsed from `LEAK_AGENT_UPLOAD`. Pure: no I/O, so config validation and the
 * uploader agree on one reading and bad values are caught at start with one precise message.
 *
 *   file:///dir             a local (or mounted) directory
 *   s3://bucket/prefix      any S3-compatible store; endpoint/region/credentials from the AWS env
 *   http(s)://host/path     one PUT per file to <url>/<key>, or to the URL with `{key}` replaced
 */
export type UploadTarget =
  | { kind: 'file'; dir: string; display: string }
  | { kind: 's3'; bucket: string; prefix: string; display: string }
  | { kind: 'http'; url: string; display: string };

export type ParseResult<T> = { ok: true; value: T } | { ok: false; expected: string; problem: string };

export const UPLOAD_EXPECTED = 'a URL of the form file:///dir, s3://bucket/prefix, http://host/path or https://host/path';

/** S3 bucket naming rules (the common subset every S3-compatible store accepts). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function parseUploadTarget(raw: string): ParseResult<UploadTarget> {
  const text = raw.trim();
  const fail = (problem: string): ParseResult<UploadTarget> => ({ ok: false, expected: UPLOAD_EXPECTED, problem });
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1]?.toLowerCase();
  if (!scheme) return fail('it has no scheme');
  if (!['file', 's3', 'http', 'https'].includes(scheme)) return fail(`unknown scheme "${scheme}:"`);
  // `{key}` is ours, not part of the URL grammar: protect it from percent-encoding while parsing.
  let url: URL;
  try {
    url = new URL(text.replace(/\{key\}/g, '__LEAK_AGENT_KEY__'));
  } catch {
    return fail('it is not a well-formed URL');
  }
  if (scheme === 'file') {
    if (url.host !== '') return fail('file URLs must be file:///absolute/dir (three slashes, no host)');
    const dir = decodeURIComponent(url.pathname).replace(/\/+$/, '');
    if (dir === '' || dir.includes('\0')) return fail('the file URL names no directory');
    return { ok: true, value: { kind: 'file', dir, display: `file://${dir}` } };
  }
  if (scheme === 's3') {
    const bucket = url.hostname;
    if (bucket === '') return fail('the s3 URL names no bucket');
    if (!BUCKET.test(bucket) || bucket.includes('..')) return fail(`"${bucket}" is not a valid bucket name`);
    if (url.search !== '' || url.hash !== '' || url.port !== '' || url.username !== '') return fail('an s3 URL is only s3://bucket/prefix');
    const prefix = decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, '');
    return { ok: true, value: { kind: 's3', bucket, prefix, display: `s3://${bucket}${prefix ? '/' + prefix : ''}` } };
  }
  if (url.hostname === '') return fail('the URL names no host');
  if (url.hash !== '') return fail('a URL fragment (#…) makes no sense for an upload target');
  const href = url.href.replace(/__LEAK_AGENT_KEY__/g, '{key}');
  // Never echo credentials that may sit in a query string (presigned URLs, tokens) into logs.
  const display = `${url.protocol}//${url.host}${url.pathname.replace(/__LEAK_AGENT_KEY__/g, '{key}')}${url.search ? '?…' : ''}`;
  return { ok: true, value: { kind: 'http', url: href, display } };
}

export const HEADERS_EXPECTED = 'comma-separated Name=value pairs such as Authorization=Bearer abc,X-Team=payments';

/** `LEAK_AGENT_UPLOAD_HEADERS`: `Name=value,Name2=value2` (values cannot contain commas). */
export function parseUploadHeaders(raw: string): ParseResult<Record<string, string>> {
  const headers: Record<string, string> = {};
  const parts = raw.split(',');
  for (const [index, part] of parts.entries()) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim();
    if (eq < 0 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      // Not quoted: a malformed pair is often `Authorization: Bearer <token>`.
      return { ok: false, expected: HEADERS_EXPECTED, problem: `pair ${index + 1} of ${parts.length} is not a Name=value pair with a valid header name` };
    }
    const value = part.slice(eq + 1).trim();
    if (/[\r\n\0]/.test(value)) return { ok: false, expected: HEADERS_EXPECTED, problem: `the value of ${name} contains a line break` };
    headers[name] = value;
  }
  return { ok: true, value: headers };
}
