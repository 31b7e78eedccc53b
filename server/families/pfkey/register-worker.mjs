// Worker-thread entry for SADB_REGISTER (see register.ts): load tsx, then the TypeScript worker body.
import { register } from 'tsx/esm/api';

register();
await import('./register-worker.ts');
