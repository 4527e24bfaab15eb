import fs from 'node:fs';
import os from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  kernel: string;
  node: string;
  peer: string;
  date: string;
}

/** What the figures depend on: the machine they were taken on. */
export function machineInfo(peer: string): MachineInfo {
  const cpus = os.cpus();
  let osName = `${os.type()} ${os.release()}`;
  try {
    osName = fs.readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]*)"?/m)?.[1] ?? osName;
  } catch {
    // not Linux
  }
  let cpuModel = cpus[0]?.model.trim() ?? 'unknown';
  try {
    // os.cpus() gives "model name"; add the family/model/MHz when it is terse (VMs often say just "AMD EPYC").
    const info = fs.readFileSync('/proc/cpuinfo', 'utf8');
    const get = (k: string): string | undefined => info.match(new RegExp(`^${k}\\s*:\\s*(.*)$`, 'm'))?.[1]?.trim();
    const mhz = get('cpu MHz');
    const fam = get('cpu family');
    const model = get('model');
    const extra = [fam && model ? `family ${fam} model ${model}` : undefined, mhz ? `${Math.round(Number(mhz))} MHz` : undefined].filter(Boolean);
    if (extra.length) cpuModel += ` (${extra.join(', ')})`;
  } catch {
    // no /proc
  }
  return {
    cpuModel,
    cores: cpus.length,
    memoryGiB: os.totalmem() / 1024 ** 3,
    os: osName,
    kernel: os.release(),
    node: process.version,
    peer,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  };
}
