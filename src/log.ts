/** The one logger: one line per event on stderr, level-filtered. Stdout stays free for CLI output. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  log(level: LogLevel, message: string): void;
}

export function stderrLogger(min: LogLevel = (process.env.TOOLGATE_LOG_LEVEL as LogLevel) || 'info'): Logger {
  const threshold = ORDER[min] ?? ORDER.info;
  return {
    log(level, message) {
      if (ORDER[level] < threshold) return;
      process.stderr.write(`${new Date().toISOString()} ${level.padEnd(5)} ${message}\n`);
    },
  };
}

export const silentLogger: Logger = { log() {} };
