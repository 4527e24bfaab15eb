import { ChannelCounter } from '../../plugin-api/index.js';

const FILE_CHANNEL_COUNTERS = [
  'ChannelSize',
  'ChannelCapacity',
  'EventPutAttemptCount',
  'EventPutSuccessCount',
  'EventTakeAttemptCount',
  'EventTakeSuccessCount',
  'Open',
  'Closed',
  'Unhealthy',
  'EventPutErrorCount',
  'EventTakeErrorCount',
  'CheckpointWriteErrorCount',
  'CheckpointBackupWriteErrorCount',
  'ReplayDamageCount',
] as const;

/** Flume's FileChannelCounter attributes, plus ReplayDamageCount (damaged log ranges skipped at the last start). */
export class FileChannelCounter extends ChannelCounter {
  Open = 0;
  Closed = 0;
  Unhealthy = 0;
  EventPutErrorCount = 0;
  EventTakeErrorCount = 0;
  CheckpointWriteErrorCount = 0;
  CheckpointBackupWriteErrorCount = 0;
  ReplayDamageCount = 0;

  override start(): void {
    // What start-up found stays visible: the agent starts counters before the channel replays.
    const keep = [this.Open, this.Closed, this.Unhealthy, this.ReplayDamageCount] as const;
    super.start();
    [this.Open, this.Closed, this.Unhealthy, this.ReplayDamageCount] = keep;
  }

  override counterNames(): readonly string[] {
    return FILE_CHANNEL_COUNTERS;
  }
}
