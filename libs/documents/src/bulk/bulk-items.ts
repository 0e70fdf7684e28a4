/** How a bulk body lists its items: one JSON value per line, or one JSON array. */
export type BulkFormat = 'ndjson' | 'json-array';

/** One item of a bulk body: its JSON text, or why it has none; `line` is where it starts (1-based). */
export type BulkItem = { line: number; text: string } | { line: number; problem: string };

const NEWLINE = 0x0a;
const SPACE = new Set([0x20, 0x09, 0x0d, NEWLINE]);
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN = new Set([0x7b, 0x5b]); // { [
const CLOSE = new Set([0x7d, 0x5d]); // } ]
const BOM = '\ufeff';
const BOM_BYTES = new Set([0xef, 0xbb, 0xbf]);

/**
 * Splits a bulk body into its items as the bytes arrive, holding at most one item (and a chunk) in memory:
 * an item longer than `maxItemBytes` is skipped with a problem. For a JSON array the splitter tracks only
 * strings and nesting; each item's text is parsed on its own later (so its numbers can be checked against
 * the text the client sent).
 */
export async function* bulkItems(
  chunks: AsyncIterable<Buffer>,
  format: BulkFormat,
  maxItemBytes: number,
): AsyncGenerator<BulkItem> {
  const splitter = format === 'ndjson' ? new LineSplitter(maxItemBytes) : new ArraySplitter(maxItemBytes);
  for await (const chunk of chunks) yield* splitter.push(chunk);
  yield* splitter.end();
}

/** The bytes of the item being read, kept until it ends (or dropped once it is too long). */
class ItemBuffer {
  private parts: Buffer[] = [];
  private size = 0;
  tooLong = false;

  constructor(private readonly max: number) {}

  add(bytes: Buffer): void {
    if (this.tooLong) return;
    this.size += bytes.length;
    if (this.size > this.max) {
      this.tooLong = true;
      this.parts = [];
    } else if (bytes.length > 0) this.parts.push(bytes);
  }

  get empty(): boolean {
    return this.size === 0;
  }

  take(line: number): BulkItem {
    const item: BulkItem = this.tooLong
      ? { line, problem: `is longer than ${this.max} bytes` }
      : { line, text: Buffer.concat(this.parts).toString('utf8') };
    this.parts = [];
    this.size = 0;
    this.tooLong = false;
    return item;
  }
}

/** NDJSON: one item per line; blank lines are skipped. */
class LineSplitter {
  private readonly item: ItemBuffer;
  private line = 1;

  constructor(maxItemBytes: number) {
    this.item = new ItemBuffer(maxItemBytes);
  }

  *push(chunk: Buffer): Generator<BulkItem> {
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE); end >= 0; end = chunk.indexOf(NEWLINE, start)) {
      this.item.add(chunk.subarray(start, end));
      yield* this.flush();
      this.line += 1;
      start = end + 1;
    }
    this.item.add(chunk.subarray(start));
  }

  *end(): Generator<BulkItem> {
    yield* this.flush();
  }

  private *flush(): Generator<BulkItem> {
    if (this.item.empty && !this.item.tooLong) return;
    const item = this.item.take(this.line);
    if ('text' in item) {
      const text = (this.line === 1 ? item.text.replace(BOM, '') : item.text).trim();
      if (text !== '') yield { line: item.line, text };
    } else yield item;
  }
}

/** A JSON array: `[` item `,` item … `]`, split at the commas between top-level items. */
class ArraySplitter {
  private readonly item: ItemBuffer;
  private state: 'before' | 'between' | 'item' | 'after' | 'failed' = 'before';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private line = 1;
  private itemLine = 1;

  constructor(maxItemBytes: number) {
    this.item = new ItemBuffer(maxItemBytes);
  }

  *push(chunk: Buffer): Generator<BulkItem> {
    if (this.state === 'failed') return;
    let itemStart = this.state === 'item' ? 0 : -1;
    for (let i = 0; i < chunk.length; i += 1) {
      const byte = chunk[i]!;
      if (this.state === 'item') {
        if (this.inString) {
          if (this.escaped) this.escaped = false;
          else if (byte === BACKSLASH) this.escaped = true;
          else if (byte === QUOTE) this.inString = false;
        } else if (byte === QUOTE) this.inString = true;
        else if (OPEN.has(byte)) this.depth += 1;
        else if (CLOSE.has(byte) && this.depth > 0) this.depth -= 1;
        else if (this.depth === 0 && (byte === COMMA || byte === 0x5d)) {
          this.item.add(chunk.subarray(itemStart, i));
          yield this.item.take(this.itemLine);
          itemStart = -1;
          this.state = byte === COMMA ? 'between' : 'after';
        }
      } else if (SPACE.has(byte)) {
        // whitespace between tokens
      } else if (this.state === 'before') {
        if (BOM_BYTES.has(byte)) continue; // a UTF-8 byte order mark (bytes that cannot start JSON)
        if (byte !== 0x5b) {
          yield { line: this.line, problem: 'the body must be a JSON array of items' };
          this.state = 'failed';
          return;
        }
        this.state = 'between';
      } else if (this.state === 'between') {
        if (byte === 0x5d) {
          this.state = 'after';
        } else {
          this.state = 'item';
          this.itemLine = this.line;
          itemStart = i;
          this.depth = 0;
          i -= 1; // read this byte again as the item's first
          continue;
        }
      } else {
        yield { line: this.line, problem: 'unexpected content after the array' };
        this.state = 'failed';
        return;
      }
      if (byte === NEWLINE) this.line += 1;
    }
    if (itemStart >= 0) this.item.add(chunk.subarray(itemStart));
  }

  *end(): Generator<BulkItem> {
    if (this.state === 'before') yield { line: this.line, problem: 'the body is empty' };
    if (this.state === 'item' || this.state === 'between')
      yield { line: this.line, problem: 'the array does not end (no closing ])' };
  }
}
