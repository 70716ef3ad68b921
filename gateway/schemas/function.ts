// JSON schemas of the function API: one place for validation, the documented shapes and serialization.
import { FUNCTION_NAME_PATTERN } from '../../core/function-spec.js';
import { INCLUDED_PATH_PATTERN, MAX_INCLUDED_FILES } from '../../core/code-archive.js';
import { settingsApiProperties, type FunctionConfig } from '../../core/function-settings.js';

export { ENV_NAME_PATTERN } from '../../core/function-settings.js';

export const functionParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', pattern: FUNCTION_NAME_PATTERN } },
} as const;

/** The function settings as the API validates them (from the one table, core/function-settings.ts). */
const settings = settingsApiProperties;

export const deployBody = {
  type: 'object',
  required: ['code'],
  additionalProperties: false,
  properties: {
    code: { type: 'string', minLength: 1 },
    /** Files shipped beside the code (`faas deploy --include`): relative path → base64 content. */
    files: {
      type: 'object',
      propertyNames: { pattern: INCLUDED_PATH_PATTERN },
      additionalProperties: { type: 'string' },
      maxProperties: MAX_INCLUDED_FILES,
    },
    /** Move the `latest` alias to this version (default true); false: reachable as `name@N` until an alias points to it. */
    promote: { type: 'boolean' },
    ...settings,
  },
} as const;

/** A deploy's body: the code, and any of the settings (those left out keep the previous version's). */
export type DeployBody = { code: string; files?: Record<string, string>; promote?: boolean } & Partial<FunctionConfig>;

const aliasSchema = {
  type: 'object',
  properties: {
    version: { type: 'integer' },
    canary: { type: 'object', properties: { version: { type: 'integer' }, percent: { type: 'number' } } },
    previous: { type: 'integer' },
    history: { type: 'array', items: { type: 'integer' } },
    updatedAt: { type: 'string' },
  },
} as const;

/** A function's kept versions and its aliases (core/releases.ts). */
export const releasesSchema = {
  type: 'object',
  properties: {
    defaultAlias: { type: 'string' },
    aliases: { type: 'object', additionalProperties: aliasSchema },
    versions: { type: 'array', items: { type: 'integer' } },
  },
} as const;

export const functionSpec = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    tenant: { type: 'string' },
    version: { type: 'integer' },
    codeSha256: { type: 'string' },
    codeBytes: { type: 'integer' },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
    ...settings,
    env: { type: 'object', additionalProperties: { type: 'string' } },
    releases: releasesSchema,
  },
} as const;

export const errorBody = {
  type: 'object',
  properties: {
    error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
  },
} as const;

/**
 * GET /functions/:name/logs: the last invocations, newest first (metering/usage-record.ts InvocationLogEntry),
 * or with `after`, those since, oldest first; `cursor` is where to ask from next.
 */
export const logsReply = {
  type: 'object',
  properties: {
    cursor: { type: 'string' },
    logs: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          invocationId: { type: 'string' },
          fn: { type: 'string' },
          version: { type: 'integer' },
          trigger: { type: 'string' },
          time: { type: 'string' },
          status: { type: 'string' },
          httpStatus: { type: 'integer' },
          durationMs: { type: 'number' },
          coldStart: { type: 'boolean' },
          logs: { type: 'string' },
          errorMessage: { type: 'string' },
        },
      },
    },
  },
} as const;
