// A certified OpenID Provider (panva's oidc-provider, v9) for the portal's
// interoperability tests. Nobody here wrote it, so the portal's relying party
// is checked against somebody else's reading of the specifications.
//
//   node tests/interop/op_server.mjs '{"client_id": ..., "client_secret": ...,
//        "redirect_uri": ..., "post_logout_redirect_uri": ..., "port": 0}'
//
// (the JSON may also come from the OP_CONFIG environment variable). Once
// listening it prints ONE line to stdout: {"issuer": "http://127.0.0.1:PORT"}.
// Development only: in-memory adapter, the library's built-in dev signing keys
// and its devInteractions (any login name and password is accepted).
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const config = JSON.parse(process.argv[2] ?? process.env.OP_CONFIG ?? '{}');
for (const key of ['client_id', 'client_secret', 'redirect_uri', 'post_logout_redirect_uri']) {
  if (!config[key]) {
    process.stderr.write(`op_server: missing ${key}\n`);
    process.exit(2);
  }
}

// Every login name is an account: sub is the name typed into the login form.
// Under the default conformIdTokenClaims the code flow's ID token carries only
// sub (and the protocol claims); name/email/org/roles come from userinfo,
// which the portal merges when its sub matches.
function account(id) {
  return {
    accountId: id,
    async claims() {
      return {
        sub: id,
        name: `Interop ${id}`,
        email: `${id}@het-baken.example`,
        org: 'het-baken',
        roles: ['ib'],
      };
    },
  };
}

// The issuer must be known before the Provider is built, so bind first (port 0
// gives a free port) and hand the requests to the provider afterwards.
const server = createServer();
server.listen(Number(config.port ?? 0), '127.0.0.1', () => {
  const { port } = server.address();
  // Plain HTTP on loopback. oidc-provider accepts an http:// issuer (it only
  // checks it is a web URI) and marks its cookies Secure only when the request
  // itself is secure (ctx.secure), so no `proxy` setting or cookie override is
  // needed: without a TLS-terminating proxy in front, `proxy` must stay false
  // (X-Forwarded-* would otherwise be trusted from anyone).
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: config.client_id,
      client_secret: config.client_secret,
      redirect_uris: [config.redirect_uri],
      post_logout_redirect_uris: [config.post_logout_redirect_uri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    // PKCE on every authorization request, whatever the client type (the
    // default only demands it of public clients and FAPI 2.0).
    pkce: { required: () => true },
    claims: {
      openid: ['sub'],
      profile: ['name'],
      email: ['email'],
      mdo: ['org', 'roles'], // a custom scope: listed here, it is also advertised
    },
    findAccount: async (ctx, id) => account(id),
    // Random per run: the OP's cookies are signed, and nothing outlives the process.
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
  });
  provider.on('server_error', (ctx, err) => process.stderr.write(`op_server: ${err.stack}\n`));
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

// The in-memory state is disposable: stop at once, open connections or not.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
