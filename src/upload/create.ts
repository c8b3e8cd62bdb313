/**
 * The policy's handle on the upload stage. Returns undefined when LEAK_AGENT_UPLOAD is unset: then
 * evidence simply stays in LEAK_AGENT_DIR and nothing of this stage is loaded or started. When it
 * is set but invalid, an uploader without a sink still records artifacts in the spool, so a process
 * started later with a fixed value ships them.
 */
import type { AgentConfig } from '../config/env';
import type { AgentLogger } from '../log/logger';
import { Uploader } from './uploader';

export type { EnqueueInput, EnqueueRequest } from './uploader';
export { Uploader } from './uploader';

export function createUploader(config: AgentConfig, logger: AgentLogger): Uploader | undefined {
  if (!config.uploadOptions.requested) return undefined;
  const uploader = new Uploader({ dir: config.dir, options: config.uploadOptions, logger });
  uploader.start();
  return uploader;
}
