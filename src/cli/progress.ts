/** Progress lines for long runs go to stderr only, so stdout (the JSON) stays clean. */
export function stderrProgress(quiet: boolean): (message: string) => void {
  if (quiet) return () => undefined;
  const started = Date.now();
  return (message: string) => {
    process.stderr.write(`[leak-agent ${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
  };
}
