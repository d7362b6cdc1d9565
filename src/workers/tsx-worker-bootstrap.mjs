// Entry of a worker thread started from TypeScript source (npm start, the specs):
// registers tsx's loader in the worker, then imports the real entry given as argv[2].
// Node 20 does not apply the parent's --import loaders to a worker's entry module.
import process from 'node:process';
import { register } from 'tsx/esm/api';

register();
await import(process.argv[2]);
