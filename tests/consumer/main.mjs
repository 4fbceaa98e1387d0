// Runs the conformance suite against the installed package; used by Node and by Deno.
import * as tp from 'tidepool';
import { runConformance } from './suite.mjs';

console.log(JSON.stringify(await runConformance(tp)));
