/** Builds the sink for a parsed target. Only the S3 sink has a heavy dependency, loaded on first use. */
import type { UploadOptions } from './options';
import type { UploadTarget } from './target';
import { createFileSink } from './sinks/file-sink';
import { createHttpSink } from './sinks/http-sink';
import { createS3Sink } from './sinks/s3-sink';
import type { Sink } from './sinks/types';

export function sinkFor(target: UploadTarget, options: UploadOptions, env: Record<string, string | undefined>): Sink {
  switch (target.kind) {
    case 'file':
      return createFileSink(target.dir, target.display);
    case 's3':
      return createS3Sink({ bucket: target.bucket, prefix: target.prefix, display: target.display, idleTimeoutMs: options.idleTimeoutMs, env });
    case 'http':
      return createHttpSink({ url: target.url, display: target.display, headers: options.headers, idleTimeoutMs: options.idleTimeoutMs });
  }
}
