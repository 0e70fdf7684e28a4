import { PassThrough } from 'node:stream';
import { progress } from './progress';

/** Cursor control (CSI): a bar redrawn in place writes it; plain lines never do. */
const ESCAPE = new RegExp(String.fromCharCode(27) + '\\[');

/** A stream that says it is (or is not) a terminal, keeping what was written. */
function stream(isTTY: boolean) {
  const out = Object.assign(new PassThrough(), { isTTY, columns: 120, rows: 40 });
  const written: string[] = [];
  out.on('data', (chunk: Buffer) => written.push(chunk.toString('utf8')));
  return { out, text: () => written.join('') };
}

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('transfer progress', () => {
  it('draws a bar in place on a terminal: percentage, rows, rows/s and the ETA', async () => {
    const { out, text } = stream(true);
    const bar = progress({ stream: out });
    bar.start(1_000);
    bar.update(500, 5_000);
    await tick(150); // cli-progress redraws on its own timer
    bar.stop();
    const shown = text();
    expect(shown).toMatch(ESCAPE); // cursor control: redrawn in place, not appended
    expect(shown).toMatch(/50% \| 5000 rows \| \d+ rows\/s \| ETA /);
    expect(shown).toMatch(/100% \| 5000 rows/);
  });

  it('writes plain lines at its interval when the stream is not a terminal, and a last one when done', async () => {
    const { out, text } = stream(false);
    const bar = progress({ stream: out, intervalMs: 40 });
    bar.start(100);
    bar.update(30, 300);
    await tick(120);
    bar.update(60, 600);
    await tick(120);
    bar.stop();
    const lines = text()
      .split('\n')
      .filter((l) => l.trim() !== '');
    expect(text()).not.toMatch(ESCAPE);
    expect(lines.some((l) => / 30% \| 300 rows/.test(l))).toBe(true);
    expect(lines.some((l) => / 60% \| 600 rows/.test(l))).toBe(true);
    expect(lines[lines.length - 1]).toMatch(/100% \| 600 rows/);
  });
});
