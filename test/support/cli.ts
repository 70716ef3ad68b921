// The faas command as a user types it, against a test platform: the CLI bundled once per test file from its
// TypeScript source (each command then starts in a fraction of tsx's time on a busy machine).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';

const run = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Bundles cli/main.ts to its own file (one per caller, so files bundling at once never share one). */
export async function buildCli(stem: string): Promise<string> {
  const outfile = path.resolve(`node_modules/.cache/faas-cli-test/${stem}.mjs`);
  await build({ entryPoints: ['cli/main.ts'], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile, logLevel: 'error' });
  return outfile;
}

export function cliEnv(url: string, token: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, FAAS_URL: url, FAAS_TOKEN: token, NO_COLOR: '1', ...extra };
}

/** Runs `faas <args>` to its end; `input` is written to its stdin. */
export async function runCli(cli: string, env: NodeJS.ProcessEnv, args: string[], input?: string): Promise<CliResult> {
  if (input !== undefined) {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [cli, ...args], { env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
      child.stdin.end(input);
    });
  }
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Starts a long-running `faas <args>` (dev, logs -f), collecting what it prints. */
export function startCli(cli: string, env: NodeJS.ProcessEnv, args: string[], cwd?: string): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [cli, ...args], { env, ...(cwd ? { cwd } : {}) });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d));
  child.stderr!.on('data', (d: Buffer) => (output += d));
  return { child, output: () => output };
}
