// The Haystack HTTP API server (see docs/server.md).
export { startServer, isLoopback, type HxServer, type HxServerOptions } from './server.js';
export { zincGrid, zincVal } from './zinc.js';
export { parseRange } from './ops.js';
