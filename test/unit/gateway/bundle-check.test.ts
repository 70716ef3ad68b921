// Deploy-time handler check from the bundle's exports (the code never runs in the gateway).
import { describe, expect, it } from 'vitest';
import { handlerProblem } from '../../../gateway/routes/bundle-check.js';

describe('handlerProblem', () => {
  it.each([
    ['a default export', 'export default () => 1;', ''],
    ['a Lambda handler', 'export const handler = async () => 1;', ''],
    ['the export --handler names', 'export const hello = async () => 1; export const other = 2;', 'hello'],
    ['a CommonJS bundle (default only) with --handler', 'var m = {}; export default m;', 'hello'],
  ])('accepts %s', async (_label, code, handler) => {
    expect(await handlerProblem(code, handler)).toBeUndefined();
  });

  it('refuses a module without a handler, naming what it exports and the styles accepted', async () => {
    expect(await handlerProblem('export const scheduled = () => 1; export const helper = 2;', '')).toMatch(
      /exports no handler \(it exports scheduled, helper\); export default a function .*--handler/,
    );
    expect(await handlerProblem('module.exports = { handler() {} };', '')).toMatch(/it exports nothing/);
  });

  it('refuses a --handler the module does not export', async () => {
    expect(await handlerProblem('export const handler = () => 1;', 'hello')).toBe('the code has no export "hello" (--handler); it exports handler');
  });

  it('refuses code that is not an ES module', async () => {
    expect(await handlerProblem('export default (;', '')).toMatch(/not an ES module/);
  });
});
