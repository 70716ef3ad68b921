// The CLI's parsing of release flags, what `faas ls` says a function serves, and the projects `faas init` writes.
import { describe, expect, it } from 'vitest';
import { parseCanary, parseVersion } from '../../../cli/commands/releases.js';
import { servingOf } from '../../../cli/commands/manage.js';
import { projectFiles, TEMPLATES } from '../../../cli/init-templates.js';
import { firstReleases, setAlias } from '../../../core/releases.js';
import type { FunctionRecord } from '../../../core/function-spec.js';

describe('release flags', () => {
  it('reads --canary VERSION=PERCENT and refuses anything else, naming the flag', () => {
    expect(parseCanary('8=10%')).toEqual({ version: 8, percent: 10 });
    expect(parseCanary('8=2.5')).toEqual({ version: 8, percent: 2.5 });
    for (const bad of ['8', '=10', '8=100', '8=0', 'x=5', '8=-1']) expect(() => parseCanary(bad)).toThrow(/--canary/);
    expect(parseVersion('12')).toBe(12);
    expect(() => parseVersion('0')).toThrow(/not a version/);
  });

  it('shows what /fn/<name> serves when it is not simply the newest version', () => {
    const record = { version: 3, releases: firstReleases(3, 'now') } as FunctionRecord;
    expect(servingOf(record)).toBe('v3');
    const releases = {
      ...setAlias({ ...record.releases, versions: [1, 2, 3] }, 'f', 'prod', { version: 1, canary: { version: 3, percent: 10 } }, 'now'),
      defaultAlias: 'prod',
    };
    expect(servingOf({ ...record, releases })).toBe('v3 (prod → v1 + v3 10 %)');
  });
});

describe('faas init', () => {
  it('writes, for every template, a package with deploy, dev and test scripts naming the function', () => {
    for (const template of TEMPLATES) {
      const files = projectFiles(template, 'my-fn');
      expect(Object.keys(files).sort()).toEqual(['.gitignore', 'package.json', 'src/index.test.ts', 'src/index.ts', 'tsconfig.json']);
      const pkg = JSON.parse(files['package.json']!);
      expect(pkg.scripts.deploy).toMatch(/^faas deploy src\/index\.ts --name my-fn/);
      expect(pkg.scripts.dev).toMatch(/^faas dev src\/index\.ts --name my-fn/);
      expect(pkg.scripts.test).toBe('vitest run');
    }
    expect(JSON.parse(projectFiles('queue', 'jobs')['package.json']!).scripts.deploy).toContain('--queue jobs-jobs');
  });
});
