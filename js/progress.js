// Download progress for several listeners at once: one load, shared by every caller that
// waits for it (client.js's engines shared per model URL, the widget's models shared by its
// rails). A listener that joins late gets the last report at once.

/**
 * A fan-out of progress reports: `report(progress)` hands `progress` to every listener and
 * keeps it; `listen(listener)` adds one, gives it the last report, and returns the function
 * that removes it.
 * @returns {{ report: (progress: object) => void, listen: (listener: (progress: object) => void) => () => void }}
 */
export function progressFanOut() {
  const listeners = new Set();
  let last = null;
  return {
    report(progress) {
      last = progress;
      for (const listener of listeners) listener(progress);
    },
    listen(listener) {
      listeners.add(listener);
      if (last) listener(last);
      return () => listeners.delete(listener);
    },
  };
}
