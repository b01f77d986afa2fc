/**
 * Node entry of the language server (`medalign-language-server --stdio`, or IPC when VS Code starts
 * it). It only builds the runtime (file system over node:fs) and hands the connection to startServer.
 */
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startServer } from '../server';
import { nodeFileSystem } from './nodeFileSystem';
import { WorkerRecordEngine } from './workerRecordEngine';
import { version as SERVER_VERSION } from '../../../package.json';

const args = process.argv.slice(2);
if (args.includes('--version') || args.includes('-v')) {
  process.stdout.write(`medalign-language-server ${SERVER_VERSION}\n`);
  process.exit(0);
}
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(
    'Usage: medalign-language-server --stdio | --node-ipc | --socket=<port>\n' +
      'Speaks the Language Server Protocol for .medalign instruction files.\n',
  );
  process.exit(0);
}

// createConnection reads --stdio / --node-ipc / --socket from argv.
const connection = createConnection(ProposedFeatures.all);
startServer(connection, {
  fs: nodeFileSystem,
  createRecordEngine: (log) => new WorkerRecordEngine(undefined, log),
});
