/**
 * Log output that tests capture instead of printing: the in-process app's pino lines and the
 * stdout/stderr of spawned servers. tests/support/setup.ts prints what a source wrote during
 * a test only when that test fails.
 */
export interface OutputSource {
  label: string;
  /** A position in the output (its length so far). */
  size(): number;
  /** What was written after `mark`. */
  since(mark: number): string;
}

const sources = new Set<OutputSource>();

/** Registers a source for the rest of the test file (a stopped server simply writes nothing more). */
export function captureOutput(source: OutputSource): void {
  sources.add(source);
}

export const outputSources = (): OutputSource[] => [...sources];

/** A source over an array of log chunks (pino writes one line per chunk). */
export const lineSource = (label: string, lines: string[]): OutputSource => ({
  label,
  size: () => lines.length,
  since: (mark) => lines.slice(mark).join(''),
});

/** A source over a growing text (a child process's captured stdout and stderr). */
export const textSource = (label: string, text: () => string): OutputSource => ({
  label,
  size: () => text().length,
  since: (mark) => text().slice(mark),
});
