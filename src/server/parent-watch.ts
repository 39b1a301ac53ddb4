// Shutting down when the process that started us goes away. `npm start` runs
// `sh -c "node bin/inkling.js serve"`: a SIGTERM sent to npm (a process manager, `kill <npm pid>`)
// is forwarded to the shell, which dies without passing it on, so the service used to run on as
// an orphan (re-parented to init) and keep its PostgreSQL running. Polling our parent pid is the
// one portable way to notice: when it changes, treat it as the SIGTERM we were meant to get.

/** Calls onOrphaned once when this process's parent exits. Returns a function that stops
 *  watching. A process started directly by init (ppid 1) is never considered orphaned. */
export function watchParent(onOrphaned: () => void, intervalMs = 500): () => void {
  const parent = process.ppid;
  if (parent <= 1) return () => {};
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onOrphaned();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
