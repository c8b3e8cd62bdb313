/**
 * The agent's own directory tree, made so that nobody else can steer what it writes.
 *
 * The agent often runs as root, in a directory under a world-writable temp dir, inside someone
 * else's process. Another local user who can plant a symbolic link or a directory of their own in
 * that tree could redirect root's evidence (heap contents: secrets) and, through a chmod, take over
 * any directory on the machine. So:
 *
 * - Every directory of the tree — LEAK_AGENT_DIR itself and everything the agent uses below it —
 *   is created by the agent (mode 0700) or, if it exists, must be a real directory (not a symbolic
 *   link) owned by the process's user. Below LEAK_AGENT_DIR, an existing directory must also not be
 *   writable by group or others; LEAK_AGENT_DIR itself may be, only with the sticky bit (as /tmp).
 *   Anything else is refused with an `UnsafePathError` naming the path, what is wrong and what to do.
 * - The directories above LEAK_AGENT_DIR are the operator's choice and are not judged.
 * - Nothing is ever chmod'ed except what the agent itself has just created.
 * - Files are created with O_CREAT | O_EXCL | O_NOFOLLOW: never through a link, never into a file
 *   someone else prepared.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Thrown when a path in the agent's tree cannot be trusted; `message` is the one line to log. */
export class UnsafePathError extends Error {
  readonly code = 'EUNSAFE';
}

const { O_CREAT, O_EXCL, O_NOFOLLOW, O_WRONLY, O_RDONLY } = fs.constants;
/** Flags that create a new file and never follow a link or reuse an existing file. */
export const CREATE_EXCLUSIVE = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;
/** Flags that open an existing file for reading, never through a link. */
export const READ_NOFOLLOW = O_RDONLY | O_NOFOLLOW;

function uid(): number | undefined {
  return typeof process.geteuid === 'function' ? process.geteuid() : undefined;
}

/**
 * Makes sure `dir` exists inside the agent's tree rooted at `root` (`dir` may equal `root`), creating
 * each missing level with mode 0700, and checks every level from `root` down. Synchronous: a few
 * lstat/mkdir calls on small directories. Throws UnsafePathError (or the errno error of mkdir).
 *
 * `checkRoot: false` skips the owner and mode checks of `root` itself (a file:// upload target is
 * the operator's directory, possibly a mounted volume owned by another user); levels below it are
 * still checked.
 */
export function ensureTreeDir(root: string, dir: string, opts: { checkRoot?: boolean } = {}): void {
  const top = path.resolve(root);
  const target = path.resolve(dir);
  const rel = path.relative(top, target);
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw new UnsafePathError(`${target} is outside the agent's directory ${top}`);
  ensureRoot(top, opts.checkRoot !== false);
  let current = top;
  for (const part of rel === '' ? [] : rel.split(path.sep)) {
    current = path.join(current, part);
    if (!mkdirOwn(current)) checkExisting(current, false);
  }
}

/** The root: its missing ancestors are created (0700, they are ours then); an existing root is checked. */
function ensureRoot(root: string, check: boolean): void {
  const missing: string[] = [];
  for (let d = root; !lexists(d); d = path.dirname(d)) {
    missing.unshift(d);
    if (path.dirname(d) === d) break;
  }
  let created = false;
  for (const d of missing) created = mkdirOwn(d) && d === root;
  if (check && !created) checkExisting(root, true);
  else if (!check) {
    const st = fs.lstatSync(root);
    if (st.isSymbolicLink()) {
      // A link as the operator's own target is theirs to make; it must lead to a directory.
      if (!fs.statSync(root).isDirectory()) throw new UnsafePathError(`${root} is not a directory`);
    } else if (!st.isDirectory()) throw new UnsafePathError(`${root} is not a directory`);
  }
}

/** Creates one level with mode 0700; false when it already existed. */
function mkdirOwn(dir: string): boolean {
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  // Ours, just made: a umask such as 0277 would leave it unusable, so set the mode exactly.
  fs.chmodSync(dir, 0o700);
  return true;
}

function checkExisting(dir: string, isRoot: boolean): void {
  const st = fs.lstatSync(dir);
  const what = isRoot ? `LEAK_AGENT_DIR ${dir}` : dir;
  if (st.isSymbolicLink()) {
    throw new UnsafePathError(`${what} is a symbolic link (to ${safeReadlink(dir)}); the agent does not follow links in its directory: ` +
      (isRoot ? 'set LEAK_AGENT_DIR to the real directory' : 'remove the link'));
  }
  if (!st.isDirectory()) throw new UnsafePathError(`${what} is not a directory`);
  const me = uid();
  if (me !== undefined && st.uid !== me) {
    throw new UnsafePathError(`${what} is owned by uid ${st.uid}, but the agent runs as uid ${me}: ` +
      'it writes only into directories of its own user (remove it, or point LEAK_AGENT_DIR to a directory owned by this user)');
  }
  const loose = st.mode & 0o022;
  const sticky = (st.mode & 0o1000) !== 0;
  if (loose !== 0 && !(isRoot && sticky)) {
    throw new UnsafePathError(`${what} is writable by other users (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}): ` +
      `another user could replace what the agent writes there; ${isRoot ? 'use a directory only this user can write (e.g. chmod 700), or one with the sticky bit' : 'remove it and the agent recreates it as 0700'}`);
  }
}

function lexists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function safeReadlink(p: string): string {
  try {
    return fs.readlinkSync(p);
  } catch {
    return '?';
  }
}

/** Checks the tree's root without writing anything: the refusal line, or null when it is usable (or does not exist yet). */
export function agentDirProblem(root: string): string | null {
  try {
    const st = fs.lstatSync(root);
    void st;
  } catch {
    return null; // created on first use
  }
  try {
    checkExisting(path.resolve(root), true);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
