#!/usr/bin/env node
// Entry point of the `sascope` command: the server runs from its TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

register();
await import('./cli.ts');
