// JSON schemas of the function API: one place for validation, the documented shapes and serialization.
import { FUNCTION_NAME_PATTERN, LIMIT_RANGES, TRIGGER_NAME_PATTERN, type Schedule } from '../../core/function-spec.js';

const range = (r: { min: number; max: number }, integer = true) => ({
  type: integer ? 'integer' : 'number',
  minimum: r.min,
  maximum: r.max,
});

export const ENV_NAME_PATTERN = '^(?!FAAS_)[A-Za-z_][A-Za-z0-9_]*$';

export const functionParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', pattern: FUNCTION_NAME_PATTERN } },
} as const;

const settings = {
  memoryMb: range(LIMIT_RANGES.memoryMb),
  cpus: range(LIMIT_RANGES.cpus, false),
  timeoutMs: range(LIMIT_RANGES.timeoutMs),
  concurrency: range(LIMIT_RANGES.concurrency),
  minScale: range(LIMIT_RANGES.minScale),
  maxScale: range(LIMIT_RANGES.maxScale),
  idleTimeoutMs: range(LIMIT_RANGES.idleTimeoutMs),
  env: {
    type: 'object',
    propertyNames: { pattern: ENV_NAME_PATTERN },
    additionalProperties: { type: 'string', maxLength: 32_768 },
    maxProperties: 256,
  },
  network: { type: 'boolean' },
  queues: { type: 'array', maxItems: 20, uniqueItems: true, items: { type: 'string', pattern: TRIGGER_NAME_PATTERN } },
  topics: { type: 'array', maxItems: 20, uniqueItems: true, items: { type: 'string', pattern: TRIGGER_NAME_PATTERN } },
  schedules: {
    type: 'array',
    maxItems: 10,
    items: {
      type: 'object',
      required: ['cron'],
      additionalProperties: false,
      properties: { cron: { type: 'string', minLength: 1, maxLength: 200 }, timezone: { type: 'string', minLength: 1, maxLength: 64 } },
    },
  },
  maxAttempts: range(LIMIT_RANGES.maxAttempts),
  maxEventAgeMs: range(LIMIT_RANGES.maxEventAgeMs),
  maxBacklog: range(LIMIT_RANGES.maxBacklog),
  batchSize: range(LIMIT_RANGES.batchSize),
} as const;

export const deployBody = {
  type: 'object',
  required: ['code'],
  additionalProperties: false,
  properties: {
    code: { type: 'string', minLength: 1 },
    ...settings,
  },
} as const;

export interface DeployBody {
  code: string;
  memoryMb?: number;
  cpus?: number;
  timeoutMs?: number;
  concurrency?: number;
  minScale?: number;
  maxScale?: number;
  idleTimeoutMs?: number;
  env?: Record<string, string>;
  network?: boolean;
  queues?: string[];
  topics?: string[];
  schedules?: Schedule[];
  maxAttempts?: number;
  maxEventAgeMs?: number;
  maxBacklog?: number;
  batchSize?: number;
}

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
  },
} as const;

export const errorBody = {
  type: 'object',
  properties: {
    error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
  },
} as const;
