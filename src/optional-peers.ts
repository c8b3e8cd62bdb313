/**
 * The OpenTelemetry SDK and exporters and the AWS SDK are optional peer dependencies: a bare
 * `npm install leak-agent` does not bring them, and a process that configures neither never loads
 * them. A feature that needs them checks here first, so that when one is absent the agent writes one
 * line naming the packages and the command that installs them, and runs on without that feature.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The packages of `names` that cannot be resolved from this package (resolving loads nothing). */
export function missingPeers(names: readonly string[]): string[] {
  return names.filter((name) => {
    try {
      require.resolve(name);
      return false;
    } catch {
      return true;
    }
  });
}

/**
 * The version of each optional peer this release was tested with (its devDependencies), else the
 * peer range it accepts. The install command names the tested versions: the OpenTelemetry packages
 * pin each other exactly, so mixing the newest of each within the peer ranges installs duplicates.
 */
let installSpecs: Record<string, string> | undefined;
function readInstallSpecs(): Record<string, string> {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as {
      peerDependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    return { ...pkg.peerDependencies, ...pkg.devDependencies };
  } catch {
    return {};
  }
}

/** `npm install …` for these packages, each with the version this release was tested with. */
export function installCommand(names: readonly string[]): string {
  const specs = names.map((name) => {
    installSpecs ??= readInstallSpecs();
    const version = installSpecs[name];
    if (version === undefined) return name;
    const spec = `${name}@${version}`;
    return /[\s<>|]/.test(spec) ? `'${spec}'` : spec;
  });
  return `npm install ${specs.join(' ')}`;
}
