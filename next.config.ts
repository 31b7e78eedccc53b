import type { NextConfig } from 'next';

// Pages are thin clients of the custom server (server/main.ts): no Next API routes, no server state.
const nextConfig: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The server's TypeScript (koffi, sockets) is never bundled into pages; only type imports reach app/.
  serverExternalPackages: ['koffi', 'ws', 'pino'],
  typescript: { tsconfigPath: 'tsconfig.json' },
};

export default nextConfig;
