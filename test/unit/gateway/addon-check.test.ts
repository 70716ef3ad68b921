// Native addons a deploy ships: refused when none of a package's builds can load on the platform's machine.
import { describe, expect, it } from 'vitest';
import { addonProblem } from '../../../gateway/routes/addon-check.js';

/** The first 20 bytes of an ELF file for a machine (e_machine at offset 18). */
const elf = (machine: number) => {
  const head = Buffer.alloc(64);
  head.writeUInt32BE(0x7f454c46, 0);
  head.writeUInt16LE(machine, 18);
  return head;
};
const machO = Buffer.from([0xcf, 0xfa, 0xed, 0xfe, ...Array(60).fill(0)]);

describe('addonProblem', () => {
  it('accepts Linux builds for this processor, and a package with several builds of which one fits', () => {
    expect(addonProblem(new Map([['node_modules/bcrypt/prebuilds/linux-x64/bcrypt.glibc.node', elf(62)]]), 'x64')).toBeUndefined();
    const several = new Map([
      ['node_modules/bcrypt/prebuilds/linux-arm64/bcrypt.node', elf(183)],
      ['node_modules/bcrypt/prebuilds/linux-x64/bcrypt.node', elf(62)],
    ]);
    expect(addonProblem(several, 'x64')).toBeUndefined();
    expect(addonProblem(new Map([['index.html', Buffer.from('<p>')]]), 'x64')).toBeUndefined();
  });

  it('refuses a package installed on a Mac, naming it and the npm command that installs it for the platform', () => {
    const problem = addonProblem(new Map([['node_modules/@img/sharp-darwin-arm64/lib/sharp-darwin-arm64.node', machO]]), 'x64');
    expect(problem).toMatch(/^@img\/sharp-darwin-arm64 holds native addons built for another operating system/);
    expect(problem).toContain('npm install --os=linux --cpu=x64 --libc=glibc');
  });

  it('refuses Linux builds for another processor', () => {
    expect(addonProblem(new Map([['node_modules/bcrypt/build/Release/bcrypt_lib.node', elf(183)]]), 'x64')).toMatch(
      /^bcrypt holds native addons built for Linux on another processor/,
    );
  });
});
