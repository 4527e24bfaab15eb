import os from 'node:os';
import path from 'node:path';
import { defineChannel, ErrorCodes, opt, systemProperty, type Context, type Logger, type OptionProblem, type Options } from '../../plugin-api/index.js';
import { DEFAULT_CACHE_BYTES, FileChannel, type FileChannelConfig } from './channel.js';
import type { EncryptionConfig } from './crypto.js';

/** Flume caps maxFileSize here (and so do we). */
export const MAX_FILE_SIZE = 2146435071;
/** Flume never lets minimumRequiredSpace go below 1 MiB. */
export const FLOOR_MINIMUM_REQUIRED_SPACE = 1024 * 1024;

/** The file channel's own keys; SPILLABLEMEMORY reuses them for its overflow. */
export const fileOptions = {
  checkpointDir: opt.optionalString("Directory of the checkpoint. Default: ~/.flume/file-channel/checkpoint (home from -Duser.home or the user's)."),
  dataDirs: opt.optionalString('Comma-separated data (log) directories; commits are spread over them and written in parallel. Default: ~/.flume/file-channel/data.'),
  useDualCheckpoints: opt.boolean(false, 'Keep a backup copy of every checkpoint in backupCheckpointDir, used when the checkpoint is damaged.'),
  backupCheckpointDir: opt.optionalString('Directory of the backup checkpoint (required with useDualCheckpoints; must differ from checkpointDir).'),
  compressBackupCheckpoint: opt.boolean(false, 'Accepted for compatibility; the backup checkpoint is written uncompressed.'),
  transactionCapacity: opt.integer(10000, 'The maximum number of events one transaction may put or take.', { min: 1 }),
  checkpointInterval: opt.duration(30000, 'Time between checkpoints (ms).', { unit: 'ms', min: 1, max: 24 * 3600 * 1000 }),
  maxFileSize: opt.integer(MAX_FILE_SIZE, 'Largest size of one log file (bytes); larger values are capped at the default.', { min: 4096 }),
  minimumRequiredSpace: opt.integer(524288000, 'Free bytes a data directory must keep; below it puts are refused (takes go on). At least 1 MiB.', { min: 0 }),
  checkpointOnClose: opt.boolean(true, 'Write a checkpoint when the channel stops, so the next start replays nothing.'),
  'use-log-replay-v1': opt.boolean(false, 'Accepted for compatibility; replay always uses the checkpoint and the log after it.'),
  'use-fast-replay': opt.boolean(false, 'Accepted for compatibility; replay is always fast.'),
  fsyncPerTransaction: opt.boolean(true, 'fsync the log before a commit returns (commits in flight together share one fsync). false: fsync every fsyncInterval.'),
  fsyncInterval: opt.duration(5, 'Seconds between fsyncs of the log when fsyncPerTransaction is false.', { unit: 's', min: 1, max: 24 * 3600 }),
};

export const options = {
  capacity: opt.integer(1000000, 'The maximum number of events stored in the channel.', { min: 1 }),
  'keep-alive': opt.duration(3, 'Seconds a commit waits for room before failing with a channel-full error.', { unit: 's', min: 0 }),
  ...fileOptions,
};

type FileOptions = Options<typeof fileOptions>;

export function flumeHome(): string {
  return systemProperty('user.home') ?? os.homedir();
}

export function fileChannelConfig(o: FileOptions, capacity: number, keepAliveMs: number, ctx?: Context): FileChannelConfig {
  const base = path.join(flumeHome(), '.flume', 'file-channel');
  const dataDirs = (o.dataDirs ?? path.join(base, 'data'))
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean);
  return {
    checkpointDir: o.checkpointDir ?? path.join(base, 'checkpoint'),
    backupCheckpointDir: o.useDualCheckpoints ? o.backupCheckpointDir : undefined,
    dataDirs,
    capacity,
    transactionCapacity: o.transactionCapacity,
    checkpointIntervalMs: o.checkpointInterval,
    maxFileSize: Math.min(o.maxFileSize, MAX_FILE_SIZE),
    minimumRequiredSpace: Math.max(o.minimumRequiredSpace, FLOOR_MINIMUM_REQUIRED_SPACE),
    keepAliveMs: keepAliveMs,
    checkpointOnClose: o.checkpointOnClose,
    fsyncPerTransaction: o.fsyncPerTransaction,
    fsyncIntervalMs: o.fsyncInterval * 1000,
    cacheBytes: DEFAULT_CACHE_BYTES,
    encryption: ctx ? encryptionConfig(ctx) : undefined,
  };
}

const ENC = 'encryption.';

/**
 * Flume's encryption.* keys: cipherProvider AESCTRNOPADDING, an activeKey, the list of
 * keys, and keyProvider JCEKSFILE with keyStoreFile, keyStorePasswordFile and per-key
 * passwordFile, where the store must be PKCS12 (a JCEKS store, Java's own format, is
 * refused with the keytool command that converts it). Or keyProvider = FILE with
 * encryption.keyProvider.keys.<alias>.keyFile: one file per key.
 */
export function encryptionConfig(ctx: Context): EncryptionConfig | undefined {
  if (!ctx.keys().some((k) => k.startsWith(ENC))) return undefined;
  const aliases = (ctx.getString(`${ENC}keyProvider.keys`) ?? '').split(/\s+/).filter(Boolean);
  const fromStore = (ctx.getString(`${ENC}keyProvider`) ?? '').toUpperCase() !== 'FILE';
  const keyFiles = new Map<string, string>();
  const keyPasswordFiles = new Map<string, string>();
  for (const a of aliases) {
    keyFiles.set(a, fromStore ? '' : (ctx.getString(`${ENC}keyProvider.keys.${a}.keyFile`) ?? ''));
    const pw = ctx.getString(`${ENC}keyProvider.keys.${a}.passwordFile`);
    if (pw) keyPasswordFiles.set(a, pw);
  }
  return {
    active: ctx.getString(`${ENC}activeKey`) ?? '',
    keyFiles,
    ...(fromStore
      ? {
          store: { file: ctx.getString(`${ENC}keyProvider.keyStoreFile`) ?? '', passwordFile: ctx.getString(`${ENC}keyProvider.keyStorePasswordFile`) ?? '', keyPasswordFiles },
        }
      : {}),
  };
}

function encryptionProblems(ctx: Context): OptionProblem[] {
  const keys = ctx.keys().filter((k) => k.startsWith(ENC));
  if (keys.length === 0) return [];
  const out: OptionProblem[] = [];
  const err = (key: string, message: string): void => void out.push({ severity: 'error', code: ErrorCodes.CONFIG_VALUE, key, message: `${ctx.fullKey(key)}: ${message}` });
  const provider = ctx.getString(`${ENC}keyProvider`);
  const isStore = provider !== undefined && provider.toUpperCase() === 'JCEKSFILE';
  if (provider === undefined) err(`${ENC}keyProvider`, "required with encryption: JCEKSFILE (a PKCS12 key store, as Flume's key store setting) or FILE (one file per key)");
  else if (!isStore && provider.toUpperCase() !== 'FILE') err(`${ENC}keyProvider`, `"${provider}" is not supported; use JCEKSFILE (with a PKCS12 store) or FILE`);
  const cipher = ctx.getString(`${ENC}cipherProvider`);
  if (cipher === undefined || cipher.toUpperCase() !== 'AESCTRNOPADDING') err(`${ENC}cipherProvider`, 'must be AESCTRNOPADDING (AES in CTR mode), as in Flume');
  const c = encryptionConfig(ctx)!;
  if (c.keyFiles.size === 0) err(`${ENC}keyProvider.keys`, 'list the aliases of every key ever used (space-separated)');
  if (!c.active) err(`${ENC}activeKey`, 'required: the alias of the key new data is written with');
  else if (c.keyFiles.size > 0 && !c.keyFiles.has(c.active)) err(`${ENC}activeKey`, `${c.active} is not listed in ${ctx.prefix}${ENC}keyProvider.keys`);
  if (isStore) {
    if (!c.store?.file) err(`${ENC}keyProvider.keyStoreFile`, 'required with JCEKSFILE: the key store (PKCS12) holding the keys');
    if (!c.store?.passwordFile) err(`${ENC}keyProvider.keyStorePasswordFile`, "required with JCEKSFILE: the file holding the key store's password");
  } else if (provider !== undefined) {
    for (const [a, f] of c.keyFiles) if (!f) err(`${ENC}keyProvider.keys.${a}.keyFile`, `required with FILE: the file holding key ${a}`);
  }
  return out;
}

/** Checks shared by the file channel and SPILLABLEMEMORY's overflow. */
export function validateFileOptions(o: FileOptions, ctx: Context): OptionProblem[] {
  const problems: OptionProblem[] = [];
  if (o.useDualCheckpoints) {
    if (!o.backupCheckpointDir) {
      problems.push({ severity: 'error', code: ErrorCodes.CONFIG_REQUIRED, key: 'backupCheckpointDir', message: `${ctx.prefix}backupCheckpointDir is required when useDualCheckpoints is true` });
    } else if (path.resolve(o.backupCheckpointDir) === path.resolve(o.checkpointDir ?? path.join(flumeHome(), '.flume', 'file-channel', 'checkpoint'))) {
      problems.push({ severity: 'error', code: ErrorCodes.CONFIG_VALUE, key: 'backupCheckpointDir', message: `${ctx.prefix}backupCheckpointDir must differ from checkpointDir` });
    }
  }
  problems.push(...encryptionProblems(ctx));
  return problems;
}

export function createFileChannel(name: string, o: Options<typeof options>, logger: Logger, ctx: Context): FileChannel {
  return new FileChannel(name, fileChannelConfig(o, o.capacity, o['keep-alive'] * 1000, ctx), logger);
}

export default defineChannel({
  type: 'file',
  aliases: ['org.apache.flume.channel.file.FileChannel'],
  description: 'Keeps events in checksummed log files on disk: a committed event survives a crash.',
  options,
  prefixes: ['encryption.'],
  validate(o, ctx) {
    const problems = validateFileOptions(o, ctx);
    if (o.transactionCapacity > o.capacity) {
      problems.push({
        severity: 'error',
        code: ErrorCodes.CONFIG_VALUE,
        key: ctx.containsKey('transactionCapacity') ? 'transactionCapacity' : 'capacity',
        message: `${ctx.prefix}transactionCapacity (${o.transactionCapacity}) must not exceed ${ctx.prefix}capacity (${o.capacity})`,
      });
    }
    return problems;
  },
  create: ({ name, options, logger, context }) => createFileChannel(name, options, logger, context),
});
