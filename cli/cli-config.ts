// Where the CLI talks to: FAAS_URL and FAAS_TOKEN (or the token `faas up` saved), read once.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface CliConfig {
  /** Gateway URL, FAAS_URL, default http://127.0.0.1:8080. */
  url: string;
  /** FAAS_TOKEN, else <FAAS_DATA_DIR or ./.faas>/token, else undefined. */
  token: string | undefined;
  /** Where the token came from, for error hints. */
  tokenSource: string;
}

export function loadCliConfig(env: Record<string, string | undefined> = process.env, cwd = process.cwd()): CliConfig {
  const url = (env.FAAS_URL || `http://127.0.0.1:${env.FAAS_PORT || 8080}`).replace(/\/+$/, '');
  if (env.FAAS_TOKEN) return { url, token: env.FAAS_TOKEN, tokenSource: 'FAAS_TOKEN' };
  const tokenFile = path.join(path.resolve(cwd, env.FAAS_DATA_DIR || '.faas'), 'token');
  try {
    const token = readFileSync(tokenFile, 'utf8').trim();
    return { url, token: token || undefined, tokenSource: tokenFile };
  } catch {
    return { url, token: undefined, tokenSource: 'nowhere (FAAS_TOKEN unset, no .faas/token)' };
  }
}
