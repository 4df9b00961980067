// A certified OpenID Provider (panva's oidc-provider, v9) for the portal's
// interoperability tests. Nobody here wrote it, so the portal's relying party
// is checked against somebody else's reading of the specifications.
//
//   node tests/interop/op_server.mjs '{"client_id": ..., "client_secret": ...,
//        "redirect_uri": ..., "post_logout_redirect_uri": ..., "port": 0}'
//
// (the JSON may also come from the OP_CONFIG environment variable). Once
// listening it prints ONE line to stdout: {"issuer": "http://127.0.0.1:PORT"}.
// Development only: in-memory adapter, keys generated per run and its
// devInteractions (any login name and password is accepted).
//
// Optional settings, so one script plays differently configured providers:
//   id_token_alg                "RS256" (default) or "ES256"
//   claims_in_id_token          true: claims go in the ID token and there is no
//                               userinfo endpoint at all
//   subject_type                "public" (default) or "pairwise"
//   token_endpoint_auth_method  "client_secret_basic" (default),
//                               "client_secret_post" or "private_key_jwt"
//   client_jwks                 the client's public keys (private_key_jwt)
//   account_claims              claims merged over the default account's
//                               (a null value removes that claim)
//   acr_values                  the levels this OP advertises; a login gets the
//                               level the request asked for when it is one of
//                               them (a user holding every means), else `acr`
//   acr                         the level of a login that asked for none
//   grant_requested_acr         false: always `acr`, whatever was asked
//   end_session                 false: no RP-initiated logout endpoint
//   accounts                    claims per login name, merged over the above
//                               (one OP plays several staff members)
//   tls_key, tls_cert           PEM files: serve https (the issuer is then
//                               https://127.0.0.1:PORT, as production demands)
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';

import Provider from 'oidc-provider';

const config = JSON.parse(process.argv[2] ?? process.env.OP_CONFIG ?? '{}');
for (const key of ['client_id', 'redirect_uri', 'post_logout_redirect_uri']) {
  if (!config[key]) {
    process.stderr.write(`op_server: missing ${key}\n`);
    process.exit(2);
  }
}
const authMethod = config.token_endpoint_auth_method ?? 'client_secret_basic';
if (authMethod !== 'private_key_jwt' && !config.client_secret) {
  process.stderr.write('op_server: missing client_secret\n');
  process.exit(2);
}

// Every login name is an account: sub is the name typed into the login form.
// Under the default conformIdTokenClaims the code flow's ID token carries only
// sub (and the protocol claims); name/email/org/roles come from userinfo,
// which the portal merges when its sub matches.
function account(id) {
  return {
    accountId: id,
    async claims() {
      const claims = {
        sub: id,
        name: `Interop ${id}`,
        email: `${id}@het-baken.example`,
        org: 'het-baken',
        roles: ['ib'],
      };
      const own = (config.accounts ?? {})[id] ?? {};
      for (const [name, value] of Object.entries({ ...config.account_claims, ...own })) {
        if (value === null) delete claims[name]; else claims[name] = value;
      }
      return claims;
    },
  };
}

function signingKeys() {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return { keys: [{ ...rsa, kid: 'rsa-1', use: 'sig' }, { ...ec, kid: 'ec-1', use: 'sig' }] };
}

const pairwiseSalt = randomBytes(16).toString('hex');

// The issuer must be known before the Provider is built, so bind first (port 0
// gives a free port) and hand the requests to the provider afterwards.
const tls = config.tls_key && config.tls_cert;
const server = tls
  ? createTlsServer({ key: readFileSync(config.tls_key), cert: readFileSync(config.tls_cert) })
  : createServer();
server.listen(Number(config.port ?? 0), '127.0.0.1', () => {
  const { port } = server.address();
  // Plain HTTP on loopback. oidc-provider accepts an http:// issuer (it only
  // checks it is a web URI) and marks its cookies Secure only when the request
  // itself is secure (ctx.secure), so no `proxy` setting or cookie override is
  // needed: without a TLS-terminating proxy in front, `proxy` must stay false
  // (X-Forwarded-* would otherwise be trusted from anyone).
  const issuer = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const client = {
    client_id: config.client_id,
    redirect_uris: [config.redirect_uri],
    post_logout_redirect_uris: [config.post_logout_redirect_uri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: authMethod,
    id_token_signed_response_alg: config.id_token_alg ?? 'RS256',
    subject_type: config.subject_type ?? 'public',
  };
  if (authMethod === 'private_key_jwt') {
    client.jwks = config.client_jwks;
  } else {
    client.client_secret = config.client_secret;
  }
  const provider = new Provider(issuer, {
    clients: [client],
    jwks: signingKeys(),
    // PKCE on every authorization request, whatever the client type (the
    // default only demands it of public clients and FAPI 2.0).
    pkce: { required: () => true },
    claims: {
      openid: ['sub'],
      profile: ['name'],
      email: ['email'],
      // A custom scope: listed here, it is also advertised.
      mdo: ['org', 'roles', 'realm_access', 'groups', 'legacy_sub'],
    },
    conformIdTokenClaims: !config.claims_in_id_token,
    subjectTypes: ['public', 'pairwise'],
    pairwiseIdentifier: async (ctx, accountId, { sectorIdentifier }) => createHash('sha256')
      .update(`${sectorIdentifier}${accountId}${pairwiseSalt}`).digest('hex'),
    acrValues: config.acr_values ?? [],
    findAccount: async (ctx, id) => account(id),
    // Random per run: the OP's cookies are signed, and nothing outlives the process.
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: config.end_session !== false },
      userinfo: { enabled: !config.claims_in_id_token },
    },
  });
  // The level of a login: what the request asked for when this OP has it.
  const finish = provider.interactionFinished.bind(provider);
  provider.interactionFinished = async (req, res, result, options) => {
    if (result.login) {
      const { params } = await provider.interactionDetails(req, res);
      const asked = String(params.acr_values ?? '').split(' ').filter(Boolean);
      const granted = config.grant_requested_acr === false ? undefined
        : asked.find((value) => (config.acr_values ?? []).includes(value));
      const acr = granted ?? config.acr;
      if (acr) result.login.acr = acr;
    }
    return finish(req, res, result, options);
  };
  provider.on('server_error', (ctx, err) => process.stderr.write(`op_server: ${err.stack}\n`));
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

// The in-memory state is disposable: stop at once, open connections or not.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
