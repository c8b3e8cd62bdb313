/**
 * The one place that decides whether this process uses the native addon. The sampler choice, the
 * near-OOM capture and the heap profiler backend all ask here and never load or judge the addon
 * themselves, so they can never disagree (one using a binary another refused).
 *
 * The addon is used when LEAK_AGENT_NATIVE is not `off` and a candidate passes the loader's checks
 * (native/addon.ts: ABI, platform, arch and API version verified before the file is loaded).
 * A refused LEAK_AGENT_ADDON_PATH is the operator's input gone wrong: it becomes one problem for
 * the agent to log as `agent.error`; a missing or refused shipped binary is not an error (the JS
 * sampler covers it) and is explained once, in `samplerReason`.
 */
import { loadAddon, type NativeAddon, type Rejection } from './addon';

export type NativeSetting = 'auto' | 'off';

/** One line's worth of a refused LEAK_AGENT_ADDON_PATH: variable, value, what was expected, what runs instead. */
export interface NativeProblem {
  variable: 'LEAK_AGENT_ADDON_PATH';
  value: string;
  expected: string;
  using: string;
  message: string;
}

export interface NativeDecision {
  readonly addon: NativeAddon | undefined;
  /** The file the addon was loaded from, or null. */
  readonly from: string | null;
  /** Why the addon is not used (null when it is), in one sentence without the refused override's details. */
  readonly unavailable: string | null;
  readonly problems: readonly NativeProblem[];
}

const decisions = new Map<string, NativeDecision>();

export function decideNative(setting: NativeSetting, env: NodeJS.ProcessEnv = process.env): NativeDecision {
  const key = `${setting}\0${env.LEAK_AGENT_ADDON_PATH ?? ''}`;
  let d = decisions.get(key);
  if (!d) {
    d = decide(setting, env);
    decisions.set(key, d);
  }
  return d;
}

function decide(setting: NativeSetting, env: NodeJS.ProcessEnv): NativeDecision {
  if (setting === 'off') return { addon: undefined, from: null, unavailable: 'LEAK_AGENT_NATIVE=off', problems: [] };
  const loaded = loadAddon(env);
  const override = loaded.rejected.find((r) => r.source === 'LEAK_AGENT_ADDON_PATH');
  const others = loaded.rejected.filter((r) => r !== override);
  const unavailable = loaded.addon
    ? null
    : `no native addon for Node ${process.version} (ABI ${process.versions.modules}, ${process.platform}-${process.arch}): ` +
      [...(override ? ['LEAK_AGENT_ADDON_PATH refused (see its agent.error line)'] : []), ...others.map(describe)].join('; ') +
      '. Fix: run on a Node with a shipped prebuild (20, 22, 24 or 26 on linux-x64 or linux-arm64), ' +
      'or build one for this Node (`npm run build:native` in a clone of leak-agent) and set LEAK_AGENT_ADDON_PATH to it.';
  const problems: NativeProblem[] = [];
  if (override) {
    const using = loaded.addon ? `the addon at ${loaded.from}` : 'the JS sampler';
    problems.push({
      variable: 'LEAK_AGENT_ADDON_PATH',
      value: override.file,
      expected: `a leak-agent addon built for Node ABI ${process.versions.modules} on ${process.platform}-${process.arch}`,
      using,
      message: `LEAK_AGENT_ADDON_PATH=${override.file} was refused: ${override.problem}; using ${using}`,
    });
  }
  return { addon: loaded.addon, from: loaded.addon ? loaded.from : null, unavailable, problems };
}

const describe = (r: Rejection): string => `${r.source} ${r.file}: ${r.problem}`;
