// The same Worker, loaded without a bundler: workerd resolves the package's files itself.
import * as tp from './node_modules/tidepool/entry/workerd.js';
import { runConformance } from './suite.mjs';

export default {
  async fetch() {
    return Response.json(await runConformance(tp));
  },
};
