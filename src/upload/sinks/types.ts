/**
 * What a sink is: something that takes one staged gzip copy and answers with the final URI once
 * the store has confirmed it (and, where the store reports a checksum, once it matched ours).
 */
import type { StagedCopy } from '../spool';

export interface PutRequest {
  /** Key relative to the sink's prefix. */
  key: string;
  staged: StagedCopy;
  /** Send at most this many bytes per second (0 = no limit). */
  maxBytesPerSec: number;
}

export interface PutResult {
  uri: string;
  /** How the store confirmed the bytes, e.g. "etag=md5", "x-amz-checksum-sha256", "2xx only". */
  verified: string;
}

export interface Sink {
  /** For logs; never carries credentials. */
  readonly display: string;
  put(req: PutRequest): Promise<PutResult>;
}

/**
 * A failed upload. `permanent` means retrying in this process cannot help (unknown bucket, no
 * credentials, 4xx): the entry stays in the spool for a process with a fixed configuration.
 */
export class UploadError extends Error {
  constructor(message: string, readonly permanent: boolean) {
    super(message);
    this.name = 'UploadError';
  }
}
