// Serves the demo page (www/) and the built package (pkg/) on localhost and prints the URL.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveDirectory } from './static_server.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export function startDemoServer(port = 0) {
  return serveDirectory(join(root, 'www'), { port, mounts: { '/pkg/': join(root, 'pkg') } });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { url } = await startDemoServer(Number(process.env.PORT ?? 8080));
  console.log(`tidepool demo: ${url}/  (Ctrl-C to stop)`);
}
