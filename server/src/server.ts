import type { Connection } from 'vscode-languageserver';
import type { FileSystem } from './core/host';

export interface ServerRuntime {
  fs: FileSystem;
}

/** Wires a connection to the language features. (Placeholder: features land next.) */
export function startServer(connection: Connection, _runtime: ServerRuntime): void {
  connection.onInitialize(() => ({ capabilities: {} }));
  connection.listen();
}
