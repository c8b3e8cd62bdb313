/**
 * The upload settings' shape, for the upload stage. They are read from the environment in
 * src/config/upload-env.ts with every other setting; this module only re-exports them.
 */
import { problemCollector, type ConfigProblem, type Env } from '../config/problems';
import { readUploadConfig, type UploadOptions } from '../config/upload-env';

export { DEFAULT_UPLOAD_OPTIONS, MIN_PART_SIZE, MAX_PART_SIZE, type UploadOptions } from '../config/upload-env';
/** The one byte parser (src/config/bytes.ts): MB = 10^6 bytes, MiB = 2^20, a single letter is binary. */
export { parseBytes as parseByteSize } from '../config/bytes';

/** Reads only the upload settings, with their problems (the agent reads them through readConfig). */
export function readUploadOptions(env: Env): { options: UploadOptions; upload: string | undefined; problems: ConfigProblem[] } {
  const { problems, problem } = problemCollector(env);
  return { ...readUploadConfig(env, problem), problems };
}
