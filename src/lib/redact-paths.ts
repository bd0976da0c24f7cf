/**
 * Hides filesystem locations in texts shown to anyone who asks (the public health report):
 * where the server keeps its files is nobody's business but the operator's, who has the log.
 */
const ABSOLUTE_PATH = /(^|[\s'"`(=[,])(?:file:\/\/)?(?:\/|[A-Za-z]:\\)[^\s'"`()[\],;]+/g;

/** `text` with every absolute path (POSIX, Windows, file://) replaced by `<path>`. */
export function redactPaths(text: string): string {
  return text.replace(ABSOLUTE_PATH, '$1<path>');
}
