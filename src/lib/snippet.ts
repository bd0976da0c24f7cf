const SNIPPET_LENGTH = 150;

/**
 * A memory's snippet (§5.4): the first 150 characters (code points, as Python counts) plus
 * "..." when longer. Reads only as far as it needs: an imported document's content can be
 * megabytes long.
 */
export function snippetOf(content: string): string {
  let end = 0;
  let count = 0;
  for (const char of content) {
    if (count === SNIPPET_LENGTH) return `${content.slice(0, end)}...`;
    end += char.length;
    count++;
  }
  return content;
}
