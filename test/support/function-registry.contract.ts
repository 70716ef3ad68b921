// The FunctionRegistry contract: one suite for every implementation (Redis in production, in-memory in unit
// tests), so a fake cannot drift from what the platform does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultFunctionConfig } from '../../core/function-spec.js';
import { setAlias } from '../../core/releases.js';
import type { FunctionChange, FunctionRegistry } from '../../registry/function-registry.js';

const until = async (check: () => boolean | Promise<boolean>, ms = 2_000) => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

export function describeFunctionRegistryContract(name: string, make: () => Promise<{ registry: FunctionRegistry; close(): Promise<void> }>): void {
  describe(`FunctionRegistry contract: ${name}`, () => {
    let registry: FunctionRegistry;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ registry, close } = await make());
    });
    afterAll(async () => {
      await registry.close();
      await close();
    });

    it('deploys version 1, then each redeploy one more, keeping createdAt; code is kept by its hash', async () => {
      const { spec: first } = await registry.deploy({
        name: 'reg-a',
        code: Buffer.from('export default 1'),
        config: { ...defaultFunctionConfig(), memoryMb: 256 },
      });
      expect(first).toMatchObject({ name: 'reg-a', version: 1, memoryMb: 256, codeBytes: 16 });
      const { spec: second } = await registry.deploy({ name: 'reg-a', code: Buffer.from('export default 2'), config: defaultFunctionConfig() });
      expect(second).toMatchObject({ version: 2, createdAt: first.createdAt, memoryMb: 128 });
      expect(second.codeSha256).not.toBe(first.codeSha256);
      expect((await registry.getCode(second.codeSha256))?.toString()).toBe('export default 2');
      expect((await registry.getCode(first.codeSha256))?.toString()).toBe('export default 1');
      expect(await registry.get('reg-a')).toMatchObject({ version: 2 });
    });

    it('keeps every setting as deployed, empty env and lists included', async () => {
      const config = { ...defaultFunctionConfig(), env: {}, queues: [], schedules: [{ cron: '*/5 * * * *', timezone: 'Europe/Paris' }] };
      await registry.deploy({ name: 'reg-b', code: Buffer.from('x'), config });
      const { name, version, codeSha256, codeBytes, createdAt, updatedAt, releases, revision, contentSha256, ...settings } = (await registry.get('reg-b'))!;
      void [name, version, codeSha256, codeBytes, createdAt, updatedAt, releases, revision, contentSha256];
      expect(settings).toEqual(config);
    });

    it('lists and knows deployed functions, and forgets removed ones', async () => {
      await registry.deploy({ name: 'reg-c', code: Buffer.from('x'), config: defaultFunctionConfig() });
      expect((await registry.list()).map((s) => s.name)).toContain('reg-c');
      await until(() => registry.has('reg-c'));
      expect(await registry.remove('reg-c')).toBe(true);
      expect(await registry.remove('reg-c')).toBe(false);
      expect(await registry.get('reg-c')).toBeUndefined();
      expect((await registry.list()).map((s) => s.name)).not.toContain('reg-c');
      await until(() => !registry.has('reg-c'));
    });

    it('keeps every version; the same code and settings make none; latest follows deploys unless promote is false', async () => {
      const config = defaultFunctionConfig();
      await registry.deploy({ name: 'reg-v', code: Buffer.from('export default 1'), config });
      const same = await registry.deploy({ name: 'reg-v', code: Buffer.from('export default 1'), config });
      expect(same).toMatchObject({ created: false, spec: { version: 1 } });
      const held = await registry.deploy({ name: 'reg-v', code: Buffer.from('export default 2'), config: { ...config, memoryMb: 256 }, promote: false });
      expect(held).toMatchObject({ created: true, spec: { version: 2, releases: { aliases: { latest: { version: 1 } }, versions: [1, 2] } } });
      expect(await registry.getVersion('reg-v', 1)).toMatchObject({ version: 1, memoryMb: 128 });
      expect(await registry.getVersion('reg-v', 2)).toMatchObject({ version: 2, memoryMb: 256 });
      expect(await registry.getVersion('reg-v', 3)).toBeUndefined();
      expect((await registry.versions('reg-v')).map((v) => v.version)).toEqual([1, 2]);
      // The newest version deployed again with promote: latest moves to it, still no new version.
      const promoted = await registry.deploy({ name: 'reg-v', code: Buffer.from('export default 2'), config: { ...config, memoryMb: 256 } });
      expect(promoted).toMatchObject({ created: false, spec: { version: 2, releases: { aliases: { latest: { version: 2 } } } } });
    });

    it('changes releases in one write; a refused change writes nothing', async () => {
      const config = defaultFunctionConfig();
      await registry.deploy({ name: 'reg-r', code: Buffer.from('a'), config });
      await registry.deploy({ name: 'reg-r', code: Buffer.from('b'), config });
      const moved = await registry.updateReleases('reg-r', (r) =>
        setAlias(r.releases, 'reg-r', 'prod', { version: 1, canary: { version: 2, percent: 5 } }, 'now'),
      );
      expect(moved?.releases.aliases.prod).toMatchObject({ version: 1, canary: { version: 2, percent: 5 } });
      await expect(registry.updateReleases('reg-r', (r) => setAlias(r.releases, 'reg-r', 'prod', { version: 9 }, 'now'))).rejects.toMatchObject({
        status: 404,
      });
      expect((await registry.get('reg-r'))?.releases.aliases.prod?.version).toBe(1);
      expect(await registry.updateReleases('reg-none', (r) => r.releases)).toBeUndefined();
    });

    it('tells listeners of deploys (with the previous version) and deletions', async () => {
      const changes: FunctionChange[] = [];
      const stop = registry.onChange((change) => changes.push(change));
      await registry.deploy({ name: 'reg-d', code: Buffer.from('x'), config: defaultFunctionConfig() });
      await registry.deploy({ name: 'reg-d', code: Buffer.from('y'), config: defaultFunctionConfig() });
      await registry.remove('reg-d');
      await until(() => changes.filter((c) => (c.kind === 'deployed' ? c.spec.name : c.name) === 'reg-d').length >= 3);
      const mine = changes.filter((c) => (c.kind === 'deployed' ? c.spec.name : c.name) === 'reg-d');
      expect(mine.map((c) => c.kind)).toEqual(['deployed', 'deployed', 'deleted']);
      expect(mine[1]).toMatchObject({ spec: { version: 2 }, previous: { version: 1 } });
      expect(mine[2]).toMatchObject({ name: 'reg-d', previous: { version: 2 } });
      stop();
    });
  });
}
