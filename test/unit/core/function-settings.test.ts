// The settings table is the one source: every setting reaches the CLI, the API schema and the defaults.
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { defaultFunctionConfig, FunctionConfigSchema, LIMIT_RANGES, SETTING_KEYS, SETTINGS } from '../../../core/function-settings.js';
import { deploySettings } from '../../../cli/commands/deploy.js';
import { deployBody } from '../../../gateway/schemas/function.js';

/** A flag value for each kind of setting, in the form commander hands it over. */
const sample = { integer: '2', number: '0.5', duration: '2s', text: '', names: ['orders'], pairs: ['A=1'], switch: true, schedules: ['*/5 * * * *'] } as const;
/** Text settings take their own values. */
const texts: Record<string, string> = { handler: 'handler.hello', eventFormat: '1.0', triggerAlias: 'prod', style: 'lambda', runtime: 'node22' };

describe('function settings', () => {
  it('gives every setting a CLI flag whose value the API accepts under the same key', () => {
    const flags: Record<string, string | string[] | boolean> = {};
    for (const key of SETTING_KEYS) {
      const cli = SETTINGS[key].cli;
      const name = cli.flag
        .split(' ')[0]!
        .replace(/^--/, '')
        .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      const range = (LIMIT_RANGES as Record<string, { default: number }>)[key];
      // Numbers at their default (in range by the next test); durations in ms.
      flags[name] = range
        ? cli.parse === 'duration'
          ? `${range.default}ms`
          : String(range.default)
        : cli.parse === 'text'
          ? texts[key]!
          : (sample[cli.parse] as string | string[] | boolean);
    }
    const { settings } = deploySettings('f.ts', flags);
    expect(Object.keys(settings).sort()).toEqual([...SETTING_KEYS].sort());
    // serverless.yml's file.export names the export.
    expect(settings.handler).toBe('hello');
    const validate = new Ajv({ strict: false }).compile(deployBody);
    expect(validate({ code: 'x', ...settings }), JSON.stringify(validate.errors)).toBe(true);
  });

  it('has defaults that satisfy its own schema, and ranges that contain the defaults', () => {
    const validate = new Ajv({ strict: false }).compile(FunctionConfigSchema);
    expect(validate(defaultFunctionConfig()), JSON.stringify(validate.errors)).toBe(true);
    for (const [key, range] of Object.entries(LIMIT_RANGES)) {
      expect(range.min, key).toBeLessThanOrEqual(range.default);
      expect(range.default, key).toBeLessThanOrEqual(range.max);
    }
    expect(LIMIT_RANGES.memoryMb).toEqual({ min: 32, max: 10_240, default: 128 });
  });

  it('leaves defaults out of the API schema, so a redeploy keeps what the body does not give', () => {
    expect(JSON.stringify(deployBody)).not.toContain('"default"');
    const body: Record<string, unknown> = { code: 'x' };
    new Ajv({ strict: false, useDefaults: true }).compile(deployBody)(body);
    expect(body).toEqual({ code: 'x' });
  });
});
