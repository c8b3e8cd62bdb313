/**
 * Builds the sink for a parsed target. Only the S3 sink has a heavy dependency (an optional peer),
 * loaded on first use; when it is not installed there is no sink: one line says what to install,
 * and evidence stays in the spool for a process that has it.
 */
import type { AgentLogger } from '../log/logger';
import { installCommand, missingPeers } from '../optional-peers';
import type { UploadOptions } from './options';
import type { UploadTarget } from './target';
import { createFileSink } from './sinks/file-sink';
import { createHttpSink } from './sinks/http-sink';
import { createS3Sink } from './sinks/s3-sink';
import type { Sink } from './sinks/types';

const S3_SDK = ['@aws-sdk/client-s3'];

export function sinkFor(target: UploadTarget, options: UploadOptions, env: Record<string, string | undefined>, logger: AgentLogger): Sink | undefined {
  switch (target.kind) {
    case 'file':
      return createFileSink(target.dir, target.display);
    case 's3': {
      const missing = missingPeers(S3_SDK);
      if (missing.length > 0) {
        logger.log('agent.error', {
          where: 'upload',
          target: target.display,
          missing,
          install: installCommand(missing),
          message: `LEAK_AGENT_UPLOAD is ${target.display}, but ${missing.join(', ')} is not installed: upload is off, evidence stays in LEAK_AGENT_DIR and its spool; install with \`${installCommand(missing)}\``,
        });
        return undefined;
      }
      return createS3Sink({ bucket: target.bucket, prefix: target.prefix, display: target.display, idleTimeoutMs: options.idleTimeoutMs, env });
    }
    case 'http':
      return createHttpSink({ url: target.url, display: target.display, headers: options.headers, idleTimeoutMs: options.idleTimeoutMs });
  }
}
