// Run in Deno by tests/js/connector_runtimes.test.mjs against the local test connector.
import * as tp from 'tidepool';
import { connectorSmoke } from './smoke.mjs';

console.log(JSON.stringify(await connectorSmoke(tp, Deno.env.get('CONNECTOR_URL'), Deno.env.get('CONNECTOR_TOKEN'))));
