// Native addons shipped with a function (packages installed beside it, shipped unbundled) must be machine
// code the function's containers can load: Linux ELF for this machine's processor. A package installed on
// a Mac or for another processor is refused at deploy, naming it and how to install it for the platform,
// instead of failing at its first call with the loader's own words. Pure: reads the files' ELF headers.

/** ELF e_machine values of the processors Node runs on here. */
const ELF_MACHINE: Record<string, number> = { x64: 62, arm64: 183, ia32: 3, arm: 40, ppc64: 21, s390x: 22, riscv64: 243 };

type Binary = 'this machine' | 'another processor' | 'not Linux';

function binaryKind(content: Buffer, arch: string): Binary {
  // \x7fELF, then e_machine (little-endian u16) at offset 18.
  if (content.length < 20 || content.readUInt32BE(0) !== 0x7f454c46) return 'not Linux';
  return content.readUInt16LE(18) === ELF_MACHINE[arch] ? 'this machine' : 'another processor';
}

/** The package a shipped file belongs to (`node_modules/@scope/name/...` → `@scope/name`). */
function packageOf(file: string): string {
  const parts = file.split('/');
  const at = parts.lastIndexOf('node_modules');
  if (at === -1) return file;
  const first = parts[at + 1] ?? '';
  return first.startsWith('@') ? `${first}/${parts[at + 2] ?? ''}` : first;
}

/**
 * Why the native addons among a deploy's files cannot load in its containers, or undefined: a package
 * whose .node files include none for Linux on `arch` (one with several builds, one of them fitting, is fine).
 */
export function addonProblem(files: ReadonlyMap<string, Buffer>, arch: string = process.arch): string | undefined {
  const byPackage = new Map<string, Binary[]>();
  for (const [file, content] of files) {
    if (!file.endsWith('.node')) continue;
    const pkg = packageOf(file);
    byPackage.set(pkg, [...(byPackage.get(pkg) ?? []), binaryKind(content, arch)]);
  }
  for (const [pkg, kinds] of byPackage) {
    if (kinds.includes('this machine')) continue;
    const what = kinds.includes('another processor') ? 'Linux on another processor' : 'another operating system (macOS or Windows)';
    return `${pkg} holds native addons built for ${what}; functions run on Linux ${arch} (glibc): install it for the platform (npm install --os=linux --cpu=${arch} --libc=glibc) and deploy again`;
  }
  return undefined;
}
