/**
 * The timeline model the language server computes (`medalign/timeline`, engine/src/core/timeline)
 * and the view draws. Re-exported here, type only, for the webview bundle and the pure view state:
 * they cannot import server/src/protocol.ts (it pulls the LSP library into a browser bundle).
 */
// eslint-disable-next-line no-restricted-imports -- types only, erased: the core's plain-data model
export type * from '../../../engine/src/core/timeline/model';
