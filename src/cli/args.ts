/** A tiny argv parser: positionals, `--flag`, `--name value`, `-o value`. Unknown options are errors. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface ParsedArgs {
  positionals: string[];
  flags: Set<string>;
  values: Map<string, string[]>;
}

/** `valued` names options that take a value (long form without dashes; `o` for `-o`). */
export function parseArgs(argv: string[], valued: string[], booleans: string[]): ParsedArgs {
  const out: ParsedArgs = { positionals: [], flags: new Set(), values: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('-') && a !== '-') {
      let name = a.replace(/^--?/, '');
      let value: string | undefined;
      const eq = name.indexOf('=');
      if (eq !== -1) {
        value = name.slice(eq + 1);
        name = name.slice(0, eq);
      }
      if (valued.includes(name)) {
        if (value === undefined) {
          value = argv[++i];
          if (value === undefined) throw new UsageError(`option ${a} needs a value`);
        }
        const list = out.values.get(name) ?? [];
        list.push(value);
        out.values.set(name, list);
      } else if (booleans.includes(name) && value === undefined) {
        out.flags.add(name);
      } else {
        throw new UsageError(`unknown option ${a}`);
      }
    } else out.positionals.push(a);
  }
  return out;
}
