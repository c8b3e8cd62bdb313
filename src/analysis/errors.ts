/**
 * The one error the analysis library throws for bad input. The CLI prints `message` as-is (no
 * stack), so each message names what was wrong, where (byte offset when known) and what was
 * expected.
 */
export class SnapshotFormatError extends Error {
  override readonly name = 'SnapshotFormatError';
  constructor(message: string) {
    super(message);
  }
}
