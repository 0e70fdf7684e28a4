import { BulkFormat, BulkItem, bulkItems } from './bulk-items';

/** The items of a body sent in chunks of `size` bytes (1: every byte apart). */
async function items(body: string, format: BulkFormat, size = 1_000, max = 1_000): Promise<BulkItem[]> {
  const bytes = Buffer.from(body, 'utf8');
  const chunks = function* () {
    for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
  };
  const found: BulkItem[] = [];
  for await (const item of bulkItems(toAsync(chunks()), format, max)) found.push(item);
  return found;
}

async function* toAsync<T>(items: Iterable<T>): AsyncGenerator<T> {
  for (const item of items) yield await Promise.resolve(item);
}

describe('bulkItems', () => {
  describe.each([1, 3, 1_000])('in chunks of %i bytes', (size) => {
    it('splits NDJSON by line, skipping blank lines and CRLF endings, numbering lines from 1', async () => {
      const body = '\ufeff{"id":"a"}\r\n\n  {"id":"b","s":"x\\ny"}\n{"id":"é"}';
      expect(await items(body, 'ndjson', size)).toEqual([
        { line: 1, text: '{"id":"a"}' },
        { line: 3, text: '{"id":"b","s":"x\\ny"}' },
        { line: 4, text: '{"id":"é"}' },
      ]);
    });

    it('splits a JSON array at its top-level commas, ignoring brackets and commas inside strings', async () => {
      const body = '\ufeff[\n {"a":[1,2],"s":"],\\"{"},\n {"b":{"c":[]}} ,\n 7\n]\n';
      expect(await items(body, 'json-array', size)).toEqual([
        { line: 2, text: '{"a":[1,2],"s":"],\\"{"}' },
        { line: 3, text: '{"b":{"c":[]}} ' },
        { line: 4, text: '7\n' },
      ]);
    });
  });

  it('reports an item longer than the limit without keeping it, and goes on', async () => {
    const body = `{"id":"a"}\n{"id":"${'x'.repeat(50)}"}\n{"id":"c"}\n`;
    expect(await items(body, 'ndjson', 7, 20)).toEqual([
      { line: 1, text: '{"id":"a"}' },
      { line: 2, problem: 'is longer than 20 bytes' },
      { line: 3, text: '{"id":"c"}' },
    ]);
    expect(await items(`[{"id":"${'x'.repeat(50)}"},{"id":"c"}]`, 'json-array', 7, 20)).toEqual([
      { line: 1, problem: 'is longer than 20 bytes' },
      { line: 1, text: '{"id":"c"}' },
    ]);
  });

  it('reports a body that is not one JSON array', async () => {
    expect(await items('{"id":"a"}', 'json-array')).toEqual([
      { line: 1, problem: 'the body must be a JSON array of items' },
    ]);
    expect(await items('[{"id":"a"}', 'json-array')).toEqual([
      { line: 1, problem: 'the array does not end (no closing ])' },
    ]);
    expect(await items('[{"id":"a"}] x', 'json-array')).toEqual([
      { line: 1, text: '{"id":"a"}' },
      { line: 1, problem: 'unexpected content after the array' },
    ]);
    expect(await items('  ', 'json-array')).toEqual([{ line: 1, problem: 'the body is empty' }]);
    expect(await items('[ ]', 'json-array')).toEqual([]);
  });
});
