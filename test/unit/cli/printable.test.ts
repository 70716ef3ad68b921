// What a function printed reaches the operator's terminal as text, never as terminal commands.
import { describe, expect, it } from 'vitest';
import { printable } from '../../../cli/output.js';

describe('printable', () => {
  it.each([
    ['clear the screen', '\x1b[2J\x1b[Hgone', '\\x1b[2J\\x1b[Hgone'],
    ['set the window title', '\x1b]0;pwned\x07', '\\x1b]0;pwned\\x07'],
    ['a hyperlink', '\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\', '\\x1b]8;;https://evil.example\\x1b\\click\\x1b]8;;\\x1b\\'],
    ['a carriage return forging an entry', 'real\r2026-12-02 200 ok', 'real\\x0d2026-12-02 200 ok'],
    ['a C1 control (8-bit CSI)', 'a\u009b2Jb', 'a\\x9b2Jb'],
    ['newlines and tabs kept', 'one\n\ttwo', 'one\n\ttwo'],
    ['text as it is', 'héllo ✔ 日本', 'héllo ✔ 日本'],
  ])('%s', (_label, input, shown) => {
    expect(printable(input)).toBe(shown);
  });
});
