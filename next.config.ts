import type { NextConfig } from 'next';

// Pages are thin clients of the custom server (server/main.ts): no Next API routes, no server state.
const nextConfig: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The server's TypeScript (koffi, sockets) is never bundled into pages; only type imports reach app/.
  serverExternalPackages: ['koffi', 'ws', 'pino'],
  // The whole project (server, tests, UI) is type-checked by `npm run typecheck` (the first test phase);
  // the page build does not stop on a type error in a test file.
  typescript: { tsconfigPath: 'tsconfig.json', ignoreBuildErrors: true },
};

export default nextConfig;
