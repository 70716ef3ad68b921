// The stored code's format: the bundle alone or packed with its files, and which file paths a deploy may hold.
import { describe, expect, it } from 'vitest';
import { includedPathProblem, includedTreeProblem, packCode, unpackCode } from '../../../core/code-archive.js';

describe('code archive', () => {
  it('keeps a bundle without files as it is, and packs files beside it otherwise', () => {
    const bundle = Buffer.from('export default () => 1;');
    expect(packCode(bundle, new Map())).toBe(bundle);
    const packed = packCode(bundle, new Map([['templates/a.html', Buffer.from('<h1>')]]));
    expect(unpackCode(packed)).toEqual({ bundle, files: new Map([['templates/a.html', Buffer.from('<h1>')]]) });
    expect(unpackCode(bundle)).toEqual({ bundle, files: new Map() });
  });

  it("refuses paths leaving the code directory, and the bundle's own name", () => {
    for (const bad of ['../x', '/etc/passwd', 'a/../../b', 'a//b', 'dir/']) expect(includedPathProblem(bad, 'index.mjs')).toMatch(/not a relative path/);
    expect(includedPathProblem('index.mjs', 'index.mjs')).toMatch(/the bundle itself/);
    expect(includedPathProblem('templates/page.html', 'index.mjs')).toBeUndefined();
  });

  it('refuses a path that is both a file and the directory of another, at any depth', () => {
    expect(includedTreeProblem(['a', 'a/b'])).toBe('"a" is a file and the directory of "a/b"; a path is one or the other');
    expect(includedTreeProblem(['x/y/z', 'x/y'])).toBe('"x/y" is a file and the directory of "x/y/z"; a path is one or the other');
    expect(includedTreeProblem(['a/b', 'a/c', 'ab', 'a.txt'])).toBeUndefined();
  });
});
