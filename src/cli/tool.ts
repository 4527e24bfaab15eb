import type { Command } from 'commander';
import { checkDataDirs } from '../channels/file/integrity.js';

/** `flume-ng tool <name>`: Flume's maintenance tools (fcintegritytool). */
export function addToolCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command('tool')
    .description('maintenance tools: fcintegritytool checks (and with --remove repairs) file channel data directories')
    .argument('<name>', 'the tool: fcintegritytool')
    .option('-l, --dataDirs <dirs>', 'comma-separated data directories of a file channel (the agent must be stopped)')
    .option('--remove', 'remove the damaged records found (a filler record replaces each damaged range; a damaged tail is cut off)')
    .action((name: string, o: { dataDirs?: string; remove?: boolean }) => {
      if (name.toLowerCase() !== 'fcintegritytool') {
        process.stderr.write(`flume-ng: unknown tool "${name}"; known tools: fcintegritytool\n`);
        return setExit(1);
      }
      if (!o.dataDirs) {
        process.stderr.write('flume-ng: fcintegritytool needs -l <dataDirs>\n');
        return setExit(1);
      }
      try {
        const dirs = o.dataDirs
          .split(',')
          .map((d) => d.trim())
          .filter(Boolean);
        const r = checkDataDirs(dirs, o.remove === true, (line) => process.stdout.write(`${line}\n`));
        const left = o.remove ? r.kept.length : r.damage.length;
        process.stdout.write(
          `fcintegritytool: ${r.files} file(s), ${r.records} valid record(s), ${r.damage.length} damaged range(s)` +
            (o.remove ? `, ${r.removed} removed` : r.damage.length > 0 ? '; run again with --remove to remove them' : '') +
            '\n',
        );
        setExit(left > 0 ? 1 : 0);
      } catch (e) {
        process.stderr.write(`flume-ng: fcintegritytool: ${(e as Error).message}\n`);
        setExit(1);
      }
    });
}
