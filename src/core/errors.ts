/**
 * Every error the runtime raises carries a stable code (FTS_ERR_<AREA>_<WHAT>), so
 * scripts and tests can match on the code instead of the wording.
 */
export class FlumeError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'FlumeError';
  }
}

/** A put or take the channel could not accept; the caller must not acknowledge upstream. */
export class ChannelError extends FlumeError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ChannelError';
  }
}

/** The channel stayed full for its whole keep-alive. */
export class ChannelFullError extends ChannelError {
  constructor(message: string) {
    super('FTS_ERR_CHANNEL_FULL', message);
    this.name = 'ChannelFullError';
  }
}

/** A bad job file or a bad component setting; `key` names the offending property. */
export class ConfigError extends FlumeError {
  readonly key: string | undefined;
  constructor(code: string, message: string, key?: string) {
    super(code, message);
    this.key = key;
    this.name = 'ConfigError';
  }
}

export const ErrorCodes = {
  CHANNEL_FULL: 'FTS_ERR_CHANNEL_FULL',
  CHANNEL_BYTES_FULL: 'FTS_ERR_CHANNEL_BYTES_FULL',
  CHANNEL_TXN_CAPACITY: 'FTS_ERR_CHANNEL_TXN_CAPACITY',
  CHANNEL_CLOSED: 'FTS_ERR_CHANNEL_CLOSED',
  CHANNEL_DISK_FULL: 'FTS_ERR_CHANNEL_DISK_FULL',
  CHANNEL_LOCKED: 'FTS_ERR_CHANNEL_LOCKED',
  CHANNEL_IO: 'FTS_ERR_CHANNEL_IO',
  TXN_STATE: 'FTS_ERR_TXN_STATE',
  CONFIG_VALUE: 'FTS_ERR_CONFIG_VALUE',
  CONFIG_REQUIRED: 'FTS_ERR_CONFIG_REQUIRED',
  CONFIG_UNKNOWN_TYPE: 'FTS_ERR_CONFIG_UNKNOWN_TYPE',
  CONFIG_UNSUPPORTED_TYPE: 'FTS_ERR_CONFIG_UNSUPPORTED_TYPE',
  CONFIG_UNKNOWN_KEY: 'FTS_ERR_CONFIG_UNKNOWN_KEY',
  CONFIG_BINDING: 'FTS_ERR_CONFIG_BINDING',
  CONFIG_UNCONFIGURED: 'FTS_ERR_CONFIG_UNCONFIGURED',
  CONFIG_SYNTAX: 'FTS_ERR_CONFIG_SYNTAX',
  CONFIG_NO_AGENT: 'FTS_ERR_CONFIG_NO_AGENT',
  CONFIG_FILE: 'FTS_ERR_CONFIG_FILE',
  COMPONENT_START: 'FTS_ERR_COMPONENT_START',
  SINK_DELIVERY: 'FTS_ERR_SINK_DELIVERY',
  REGISTRY_DUPLICATE: 'FTS_ERR_REGISTRY_DUPLICATE',
  PLUGIN_LOAD: 'FTS_ERR_PLUGIN_LOAD',
  HDFS_CALL: 'FTS_ERR_HDFS_CALL',
  HDFS_RENAME: 'FTS_ERR_HDFS_RENAME',
  HTTP_SINK: 'FTS_ERR_HTTP_SINK',
  PLUGIN_FAILED: 'FTS_ERR_PLUGIN_FAILED',
} as const;
