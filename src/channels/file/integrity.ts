/**
 * `flume-ng tool fcintegritytool`: checks every record of every log file of the given
 * data directories and reports the damaged ranges; with `remove`, overwrites each
 * damaged range with a filler record (so the offsets of the records after it, which
 * the checkpoint points to, do not move) and cuts damaged tails off.
 */
import fs from 'node:fs';
import path from 'node:path';
import { padRecord, RECORD_HEADER, type Damage } from './format.js';
import { lockDir } from './lock.js';
import { listLogs, scanLog } from './scan.js';

export interface IntegrityReport {
  files: number;
  records: number;
  damage: Damage[];
  removed: number;
  /** Damaged ranges too short to hold a filler record: left as they are (replay skips them too). */
  kept: Damage[];
}

export function checkDataDirs(dirs: readonly string[], remove: boolean, out: (line: string) => void): IntegrityReport {
  const report: IntegrityReport = { files: 0, records: 0, damage: [], removed: 0, kept: [] };
  for (const d of dirs) {
    const dir = path.resolve(d);
    if (!fs.existsSync(dir)) throw new Error(`data directory ${dir} does not exist`);
    const release = lockDir(dir, 'fcintegritytool');
    try {
      for (const log of listLogs(dir)) {
        report.files++;
        const r = scanLog(log.path, log.id, () => {}, 0, undefined, true);
        report.records += r.records;
        if (r.damage.length === 0) {
          out(`${log.path}: ${r.records} record(s), no damage`);
          continue;
        }
        for (const dmg of r.damage) {
          report.damage.push(dmg);
          out(`${log.path}: damaged bytes at offset ${dmg.offset}, length ${dmg.length}${dmg.tail ? ' (to the end of the file)' : ''}: ${dmg.reason}`);
          if (!remove) continue;
          if (dmg.tail) {
            fs.truncateSync(log.path, dmg.offset);
            report.removed++;
            out(`${log.path}: cut at offset ${dmg.offset}`);
          } else if (dmg.length >= RECORD_HEADER) {
            const fd = fs.openSync(log.path, 'r+');
            try {
              fs.writeSync(fd, padRecord(dmg.length), 0, dmg.length, dmg.offset);
              fs.fsyncSync(fd);
            } finally {
              fs.closeSync(fd);
            }
            report.removed++;
            out(`${log.path}: bytes ${dmg.offset}..${dmg.offset + dmg.length} replaced by a filler record`);
          } else {
            report.kept.push(dmg);
            out(`${log.path}: ${dmg.length} byte(s) at ${dmg.offset} are too few to replace; left as they are (replay skips them)`);
          }
        }
      }
    } finally {
      release();
    }
  }
  return report;
}
