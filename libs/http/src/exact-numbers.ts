import { Violation } from '@oms/common';
import { pointerSegment } from '@oms/common';
import { inspectJson } from './input-safety';

/** A JSON number token: the grammar of RFC 8259 §6. */
const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/** Sign, significant digits (no leading or trailing zeros) and the exponent of the last digit. */
function decimal(text: string): string {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match) return text;
  const [, sign, whole, fraction = '', exponent = '0'] = match;
  let digits = (whole + fraction).replace(/^0+/, '');
  let exp = Number(exponent) - fraction.length;
  if (digits === '') return '0'; // -0 and 0 are one value in JSON's model
  const trailing = digits.length - digits.replace(/0+$/, '').length;
  digits = digits.slice(0, digits.length - trailing);
  exp += trailing;
  return `${sign}${digits}e${exp}`;
}

/**
 * Whether a JSON number token denotes exactly the value a JavaScript number (an IEEE-754 double) holds
 * for it, so that storing the parsed value and writing it out again gives the same number back:
 * `0.1`, `1.0`, `1e2` do; `12345678901234567890`, `0.1000000000000000055511`, `1e-400` do not.
 */
export function isExactNumber(token: string): boolean {
  if (!JSON_NUMBER.test(token)) return false;
  const value = Number(token);
  return Number.isFinite(value) && decimal(token) === decimal(String(value));
}

/** Numbers that cannot lose digits need no scan: short, and no exponent. */
const MAYBE_INEXACT = /\d[eE]|[0-9.]{16,}/;

/**
 * The JSON Pointer of every number in a JSON text that a double cannot hold exactly. The text must be
 * valid JSON (it is scanned after JSON.parse accepted it); the scan is iterative and linear.
 */
export function inexactNumbers(text: string, root = ''): Violation[] {
  if (!MAYBE_INEXACT.test(text)) return [];
  const violations: Violation[] = [];
  // One frame per open container: the path to it and, for an object, the key whose value comes next.
  const frames: { path: string; array: boolean; index: number; key: string }[] = [];
  const here = () => {
    const top = frames[frames.length - 1];
    if (!top) return root;
    return `${top.path}/${top.array ? top.index : pointerSegment(top.key)}`;
  };
  let i = 0;
  let expectKey = false;
  while (i < text.length && violations.length < 100) {
    const c = text.charAt(i);
    if (c === '"') {
      let j = i + 1;
      while (text.charAt(j) !== '"') j += text.charAt(j) === '\\' ? 2 : 1;
      const open = frames[frames.length - 1];
      if (expectKey && open) open.key = JSON.parse(text.slice(i, j + 1)) as string;
      i = j + 1;
    } else if (c === '{' || c === '[') {
      frames.push({ path: here(), array: c === '[', index: 0, key: '' });
      expectKey = c === '{';
      i++;
    } else if (c === '}' || c === ']') {
      frames.pop();
      i++;
    } else if (c === ':') {
      expectKey = false;
      i++;
    } else if (c === ',') {
      const top = frames[frames.length - 1];
      if (top?.array) top.index++;
      else expectKey = true;
      i++;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      let j = i + 1;
      while (j < text.length && /[0-9.eE+-]/.test(text.charAt(j))) j++;
      if (!isExactNumber(text.slice(i, j))) {
        violations.push({
          path: here(),
          message:
            'cannot be stored exactly (numbers are IEEE-754 doubles: at most 15-17 significant digits, ' +
            'integers within ±9007199254740991); send it as a string',
        });
      }
      i = j;
    } else {
      i++; // whitespace, true, false, null
    }
  }
  return violations;
}

/**
 * Everything in a JSON value that could not be stored exactly, with its text as the client sent it:
 * nesting past maxDepth, NUL or lone surrogates (inspectJson), then numbers a double cannot hold (found in
 * the text). For request bodies and json filter values alike.
 */
export function unstorableJson(value: unknown, text: string, maxDepth: number, root = ''): Violation[] {
  const violations = inspectJson(value, maxDepth, root);
  return violations.length > 0 ? violations : inexactNumbers(text, root);
}
