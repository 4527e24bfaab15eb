import fs from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { splitJvmArgs } from './args.js';
import { setSystemProperties } from '../core/system-properties.js';
// Each command's module (and the components it loads) is imported when the command runs,
// so `flume-ng version` and `help` start without loading every component.
const runAgent = async (...a: Parameters<typeof import('./agent-command.js').runAgent>) => (await import('./agent-command.js')).runAgent(...a);
const runConf = async (...a: Parameters<typeof import('./agent-command.js').runConf>) => (await import('./agent-command.js')).runConf(...a);
const runValidate = async (...a: Parameters<typeof import('./validate-command.js').runValidate>) => (await import('./validate-command.js')).runValidate(...a);
const runGraph = async (...a: Parameters<typeof import('./graph-command.js').runGraph>) => (await import('./graph-command.js')).runGraph(...a);
import { addAvroClientCommand } from './avro-client.js';
import { addToolCommand } from './tool.js';
import { PACKAGE_ROOT } from './paths.js';
const runPlugins = async (...a: Parameters<typeof import('./plugins-command.js').runPlugins>) => (await import('./plugins-command.js')).runPlugins(...a);
const runHelp = async (...a: Parameters<typeof import('./help-command.js').runHelp>) => (await import('./help-command.js')).runHelp(...a);

export function version(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export async function main(argv: readonly string[]): Promise<number> {
  const { rest, sysProps, jvmFlags } = splitJvmArgs(argv);
  setSystemProperties(sysProps);
  let exitCode = 0;
  const program = new Command('flume-ng')
    .description('flume-ts: run Apache Flume job files on Node.js')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) })
    .showSuggestionAfterError(true)
    .helpCommand(false);

  const agentCmd = (name: string) =>
    program
      .command(name)
      .description(name === 'node' ? 'deprecated synonym of agent' : 'run an agent from a job file')
      .requiredOption('-n, --name <name>', 'the agent to run (the <name>. prefix of the job file keys)')
      .option('-f, --conf-file <file>', 'job file (repeatable; later files override earlier ones)', collect, [])
      .option('-c, --conf <dir>', 'configuration directory (logging settings: <dir>/log4j.properties; plugins: <dir>/../plugins.d)')
      .option('--plugins-path <dirs>', 'colon-separated directories holding plugin packages')
      .option('--plugin-path <dirs>', 'same as --plugins-path')
      .option('-u, --conf-uri <uri>', 'job file at an http(s) or file URI (repeatable; merged in order after the -f files)', collect, [])
      .option('--conf-user <user>', 'user name for the --conf-uri server (HTTP basic authentication)')
      .option('--conf-password <password>', 'password for the --conf-uri server (never printed)')
      .option('--conf-provider <class>', "accepted when it names one of Flume's own configuration providers")
      .option('-a, --auth-provider <class>', "accepted when it names Flume's BasicAuthorizationProvider")
      .option('--verify-host <bool>', 'check the --conf-uri server host name against its certificate (default true)')
      .option('-z, --zkConnString <connect>', 'read the job from ZooKeeper (host:port[,host:port...]): the znode <zkBasePath>/<name>')
      .option('-p, --zkBasePath <path>', "base path of the agents' znodes in ZooKeeper (default /flume)")
      .option('-i, --poll-interval <seconds>', 'seconds between checks for a changed configuration (default 30 for files, 300 for URIs)')
      .option('-b, --backup-directory <dir>', 'keep the last good configuration here, to start from when the configuration server is down')
      .option('--no-reload-conf', 'do not apply changes to the configuration while running')
      .option('-C, --classpath <cp>', 'accepted for compatibility; ignored (plugins are npm packages)')
      .option('-d, --dryrun', 'check the job file and print what would run, then exit')
      .action(async (o: AgentCliOptions) => {
        exitCode = await runAgent({ ...o, sysProps, jvmFlags });
      });
  agentCmd('agent');
  agentCmd('node');

  program
    .command('conf')
    .description('publish a job file to ZooKeeper (validated first), or print the one there')
    .argument('<action>', 'put or get')
    .requiredOption('-z, --zkConnString <connect>', 'ZooKeeper to use (host:port[,host:port...])')
    .option('-p, --zkBasePath <path>', "base path of the agents' znodes (default /flume)")
    .requiredOption('-n, --name <name>', 'the agent: its znode is <zkBasePath>/<name>')
    .option('-f, --conf-file <file>', 'the job file to publish (put)', collect, [])
    .option('-c, --conf <dir>', 'configuration directory (plugins for validation)')
    .option('--plugins-path <dirs>', 'colon-separated directories holding plugin packages')
    .action(async (action: string, o: { zkConnString: string; zkBasePath?: string; name: string; confFile: string[]; conf?: string; pluginsPath?: string }) => {
      exitCode = await runConf(action, o);
    });

  program
    .command('validate')
    .description('check a job file without starting anything; exits non-zero on errors')
    .option('-f, --conf-file <file>', 'job file (repeatable)', collect, [])
    .option('-n, --name <name>', 'the agent to check (default: every agent in the file)')
    .option('-c, --conf <dir>', 'configuration directory')
    .option('--plugins-path <dirs>', 'colon-separated directories holding plugin packages')
    .action(async (o: { confFile: string[]; name?: string; conf?: string; pluginsPath?: string }) => {
      exitCode = await runValidate(o);
    });

  program
    .command('graph')
    .description('print the component graph of an agent (sources, interceptors, selectors, channels, sink groups, sinks)')
    .requiredOption('-n, --name <name>', 'the agent to draw')
    .option('-f, --conf-file <file>', 'job file (repeatable)', collect, [])
    .option('-c, --conf <dir>', 'configuration directory')
    .option('--plugins-path <dirs>', 'colon-separated directories holding plugin packages')
    .option('--format <format>', 'mermaid, dot or json', 'mermaid')
    .action(async (o: { name: string; confFile: string[]; conf?: string; pluginsPath?: string; format: string }) => {
      exitCode = await runGraph(o);
    });

  program
    .command('plugins')
    .description('list the components of every plugin package found, their kind, names and where they come from')
    .option('-c, --conf <dir>', 'configuration directory (plugins: <dir>/../plugins.d)')
    .option('--plugins-path <dirs>', 'colon-separated directories holding plugin packages')
    .action(async (o: { conf?: string; pluginsPath?: string }) => {
      exitCode = await runPlugins(o);
    });

  program
    .command('help [topic]')
    .description("help for a command, or a component type's keys, defaults, ranges and descriptions (e.g. help memory, help com.example.MySource)")
    .option('-c, --conf <dir>', 'configuration directory (plugins: <dir>/../plugins.d)')
    .option('--plugins-path <dirs>', 'colon-separated directories holding plugin packages')
    .action(async (topic: string | undefined, o: { conf?: string; pluginsPath?: string }) => {
      exitCode = await runHelp(program, topic, o);
    });

  addAvroClientCommand(program, sysProps, (code) => (exitCode = code));
  addToolCommand(program, (code) => (exitCode = code));

  program
    .command('version')
    .description('print the version')
    .action(() => {
      process.stdout.write(`flume-ts ${version()} (Flume 1.11-compatible)\n`);
    });

  try {
    if (rest.length === 0) {
      program.outputHelp();
      return 1;
    }
    await program.parseAsync(rest, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.help' ? 0 : 1;
    }
    throw err;
  }
  return exitCode;
}

export interface AgentCliOptions {
  name: string;
  confFile: string[];
  conf?: string;
  pluginsPath?: string;
  pluginPath?: string;
  reloadConf?: boolean;
  classpath?: string;
  dryrun?: boolean;
  confUri?: string[];
  confUser?: string;
  confPassword?: string;
  confProvider?: string;
  authProvider?: string;
  verifyHost?: string;
  zkConnString?: string;
  zkBasePath?: string;
  pollInterval?: string;
  backupDirectory?: string;
}
