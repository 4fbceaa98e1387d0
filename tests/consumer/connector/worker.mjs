// A Worker that runs the ConnectorClient smoke run in workerd (Miniflare); the test connector's
// URL and token come from the Worker's env (bindings).
import * as tp from 'tidepool';
import { connectorSmoke } from './smoke.mjs';

export default {
  async fetch(request, env) {
    return Response.json(await connectorSmoke(tp, env.CONNECTOR_URL, env.CONNECTOR_TOKEN));
  },
};
