// A Cloudflare Worker that runs the conformance suite against the installed package.
import * as tp from 'tidepool';
import { runConformance } from './suite.mjs';

export default {
  async fetch() {
    return Response.json(await runConformance(tp));
  },
};
