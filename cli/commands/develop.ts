// faas init and faas dev: the loop before a deploy. `init` writes a project that deploys as it is; `dev`
// deploys a file to the platform FAAS_URL names (the local one from `faas up`: the same runtime and container
// as production), redeploys on every save under the same URL, and prints the function's invocations and
// output as they come.
import { existsSync, mkdirSync, readdirSync, watch, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import { ApiClient } from '../api-client.js';
import { bundleFunction } from '../bundle.js';
import { loadCliConfig } from '../cli-config.js';
import { CliError } from '../errors.js';
import { followLogs } from '../follow-logs.js';
import { describeTemplate, projectFiles, TEMPLATES, type Template } from '../init-templates.js';
import { info, ok } from '../output.js';
import { addSettingOptions, deploySettings, upload, type DeployFlags } from './deploy.js';

/** Saves within this long of each other make one rebuild (editors write a file in several steps). */
const SETTLE_MS = 15;

export function registerDevelop(program: Command): void {
  program
    .command('init')
    .description(`write a new function project: ${TEMPLATES.join(', ')}`)
    .argument('<dir>', 'the directory to create (its name is the function name)')
    .option('--template <template>', `the handler contract: ${TEMPLATES.join(', ')}`, 'web')
    .action((dir: string, flags: { template: string }) => {
      if (!(TEMPLATES as readonly string[]).includes(flags.template)) {
        throw new CliError(`--template ${flags.template} is not a template`, `choose one of ${TEMPLATES.join(', ')}`);
      }
      const name = path.basename(path.resolve(dir)).toLowerCase();
      if (!/^[a-z][a-z0-9-]{0,62}$/.test(name)) {
        throw new CliError(`"${name}" is not a valid function name`, 'name the directory with lower-case letters, digits and dashes, starting with a letter');
      }
      if (existsSync(dir) && readdirSync(dir).length > 0) throw new CliError(`${dir} exists and is not empty`, 'choose a new directory');
      const template = flags.template as Template;
      for (const [file, content] of Object.entries(projectFiles(template, name))) {
        const target = path.join(dir, file);
        mkdirSync(path.dirname(target), { recursive: true });
        writeFileSync(target, content);
      }
      ok(`wrote ${dir}: ${describeTemplate(template)}`);
      console.log(`  cd ${dir}`);
      console.log(`  faas dev src/index.ts --name ${name}   ${pc.dim('# runs it on your platform, redeploys on save')}`);
      console.log(`  npm install && npm test             ${pc.dim('# its test')}`);
      console.log(`  npm run deploy                      ${pc.dim('# deploys it')}`);
    });

  const dev = program
    .command('dev')
    .description('run a function on the platform in its real container, redeploy on every save, print its invocations and output')
    .argument('<file>', 'the function file (its directory is watched)')
    .option('--name <name>', 'function name (default: the file name)');
  addSettingOptions(dev).action(async (file: string, flags: DeployFlags) => {
    const { name, settings } = deploySettings(file, flags);
    const include = (flags.include as string[] | undefined) ?? [];
    const external = (flags.external as string[] | undefined) ?? [];
    const api = new ApiClient(loadCliConfig());
    let url = '';
    /** Bundles and deploys; a failure is printed and the running version stays. */
    const deploy = async (reason: string): Promise<void> => {
      const started = performance.now();
      try {
        const bundle = await bundleFunction(file, include, external);
        const result = await upload(api, name, bundle, settings);
        url = result.url;
        const ms = Math.round(performance.now() - started);
        if (result.created) ok(`${reason}: ${name} v${result.function.version} live in ${ms} ms → ${url}`);
        else info(`${reason}: nothing changed (v${result.function.version})`);
      } catch (err) {
        console.error(`${pc.red('✖')} ${reason}: ${(err as Error).message}${pc.dim('  (the previous version keeps answering)')}`);
      }
    };
    await deploy('started');
    if (!url) throw new CliError(`${file} could not be deployed`, 'fix the error above; `faas dev` then watches for saves');

    const stop = new AbortController();
    let running: Promise<void> | undefined;
    let again = false;
    let timer: NodeJS.Timeout | undefined;
    const rebuild = () => {
      if (running) {
        again = true;
        return;
      }
      running = deploy('saved').finally(() => {
        running = undefined;
        if (again && !stop.signal.aborted) {
          again = false;
          rebuild();
        }
      });
    };
    const dir = path.dirname(path.resolve(file));
    const watcher = watch(dir, { recursive: true }, (_event, changed) => {
      if (changed && /(^|[\\/])(node_modules|\.git)([\\/]|$)|(^|[\\/])\.[^\\/]*$/.test(String(changed))) return;
      clearTimeout(timer);
      timer = setTimeout(rebuild, SETTLE_MS);
    });

    const close = () => {
      stop.abort();
      watcher.close();
      clearTimeout(timer);
    };
    process.once('SIGINT', close);
    process.once('SIGTERM', close);
    await followLogs(api, name, {}, stop.signal, 100, () =>
      info(`watching ${path.relative(process.cwd(), dir) || '.'} for saves; invocations and output below (Ctrl-C to stop)`),
    );
  });
}
