/**
 * A Kubernetes list (`{"kind":"PodList","metadata":{…},"items":[{…},{…}]}`) taken apart as it
 * arrives: each element of `items` is handed on as its own JSON text the moment it is complete,
 * and the rest (kind, metadata with resourceVersion and continue) is kept as a small envelope with
 * `"items":[]`. A page of a few hundred objects is never one string, nor one parsed tree: the
 * largest string made is one object's. Pure: text in, text out.
 */

const QUOTE = 0x22;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

export class ListSplitter {
  /** nesting depth outside strings: 1 inside the list object, 2 inside its items array */
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** the depth of the items array's elements; -1 before it, -2 after it */
  private itemsDepth = -1;
  /** the text of the item being read, when it spans chunks */
  private itemParts: string[] = [];
  private inItem = false;
  private readonly envelope: string[] = [];
  /** the envelope's text since the last structural character, to recognise the "items" key */
  private recent = '';

  constructor(private readonly onItem: (json: string) => void) {}

  write(chunk: string): void {
    let itemStart = this.inItem ? 0 : -1;
    let envelopeStart = this.inItem || this.itemsDepth >= 0 ? -1 : 0;
    // The next backslash at or after i (strings are most of the text: jump through them).
    let backslash = -1;
    for (let i = 0; i < chunk.length; i++) {
      if (this.inString) {
        if (this.escaped) {
          this.escaped = false;
          continue;
        }
        const quote = chunk.indexOf('"', i);
        if (backslash !== chunk.length && backslash < i) {
          backslash = chunk.indexOf('\\', i);
          if (backslash < 0) backslash = chunk.length;
        }
        if (backslash < (quote < 0 ? chunk.length : quote)) {
          i = backslash;
          this.escaped = true;
          continue;
        }
        if (quote < 0) break;
        i = quote;
        this.inString = false;
        continue;
      }
      const c = chunk.charCodeAt(i);
      if (c === QUOTE) {
        this.inString = true;
        continue;
      }
      if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
        if (this.itemsDepth >= 0 && this.depth === this.itemsDepth && c === OPEN_OBJECT) {
          this.inItem = true;
          itemStart = i;
        } else if (this.itemsDepth === -1 && this.depth === 1 && c === OPEN_ARRAY && this.isItemsKey(envelopeStart >= 0 ? chunk.slice(envelopeStart, i) : '')) {
          // The items array: the envelope gets "[]", its elements go to onItem.
          this.envelope.push(chunk.slice(envelopeStart, i), '[]');
          envelopeStart = -1;
          this.itemsDepth = this.depth + 1;
        }
        this.depth++;
        continue;
      }
      if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
        this.depth--;
        if (this.inItem && this.depth === this.itemsDepth) {
          this.itemParts.push(chunk.slice(itemStart, i + 1));
          const json = this.itemParts.length === 1 ? (this.itemParts[0] as string) : this.itemParts.join('');
          this.itemParts = [];
          this.inItem = false;
          itemStart = -1;
          this.onItem(json);
        } else if (this.itemsDepth >= 0 && c === CLOSE_ARRAY && this.depth === this.itemsDepth - 1) {
          // The end of the items array: the envelope resumes after it.
          this.itemsDepth = -2;
          envelopeStart = i + 1;
          this.recent = '';
        }
      }
    }
    if (this.inItem && itemStart >= 0) this.itemParts.push(chunk.slice(itemStart));
    if (envelopeStart >= 0) {
      const rest = chunk.slice(envelopeStart);
      this.envelope.push(rest);
      this.recent = (this.recent + rest).slice(-64);
    }
  }

  private isItemsKey(before: string): boolean {
    const text = (this.recent + before).trimEnd();
    return /"items"\s*:$/.test(text);
  }

  /** The list without its items (`"items":[]`), to be parsed for its metadata. */
  end(): string {
    return this.envelope.join('');
  }
}
