/**
 * Structured logging: winston JSON lines with fixed messages and structured fields. Code takes a
 * `Logger` (the narrow interface below) so tests can pass `silentLogger`.
 */
import type { Writable } from 'node:stream';
import winston from 'winston';

const noop = (): void => undefined;

export type LogFields = Record<string, unknown>;

export interface Logger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  /** Service name attached to every line, e.g. "runtime". */
  service: string;
  level?: 'error' | 'warn' | 'info' | 'debug';
  /** Where lines go; stderr by default so stdout stays free for a command's own output. */
  stream?: Writable;
}

/**
 * A winston logger behind a level check. winston formats every entry (timestamp, JSON) and passes
 * it through its streams before the transport drops what is below the level; a per-request debug
 * line would cost tens of microseconds on the hot path for nothing. Here a disabled level costs a
 * branch.
 */
export function createLogger(options: LoggerOptions): Logger {
  const logger = winston.createLogger({
    level: options.level ?? 'info',
    defaultMeta: { service: options.service },
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Stream({ stream: options.stream ?? process.stderr })],
  });
  const at = (level: keyof Logger): Logger[keyof Logger] =>
    logger.isLevelEnabled(level) ? (message, fields) => void (fields === undefined ? logger.log(level, message) : logger.log(level, message, fields)) : noop;
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

export const silentLogger: Logger = { error: noop, warn: noop, info: noop, debug: noop };
