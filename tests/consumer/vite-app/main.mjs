import * as tp from 'tidepool';
import { runConformance } from '../suite.mjs';

window.conformanceResults = await runConformance(tp);
