// Starts a vici source on the socket named by argv[2], prints its status as JSON and stops: run as another
// user by source.test.ts, so a socket open to charon's owner and group only answers EACCES.
import { Model } from '../../../server/model/model.ts';
import { createLogger } from '../../../server/log.ts';
import { ViciSource } from '../../../server/families/vici/source.ts';

const s = new ViciSource(new Model(), createLogger('silent'), { socketPath: process.argv[2]!, refreshMs: 0 });
await s.start();
console.log(JSON.stringify(s.status));
s.stop();
