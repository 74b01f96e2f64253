// panva's oidc-provider (OpenID Certified), configured for authkit's
// integration tests. Test-only: the keys under keys/ are published with the
// repository and protect nothing.
//
// Usage: node server.mjs <port>
// Prints "ready <issuer>" on stdout once it listens on 127.0.0.1:<port>.
//
// Enabled: discovery, client credentials, device flow, revocation,
// pushed authorization requests (required by the clients authkit-par and
// authkit-par-jwt),
// introspection, resource indicators, refresh tokens, DPoP with nonces
// required (the client authkit-dpop must use it; userinfo is the protected
// resource); client authentication
// by client_secret_basic, client_secret_post, client_secret_jwt,
// private_key_jwt and none. Sign-in is a small login form (any user name,
// the password in AUTHKIT_OIDC_PASSWORD) with a "deny" button; consent is
// granted automatically for whatever was asked. A sign-in is of the class
// urn:authkit:loa:1; one that asks for urn:authkit:loa:2 (acr_values) also
// asks for the one-time code in AUTHKIT_OIDC_OTP.

import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import Provider, { errors } from 'oidc-provider';

const here = dirname(fileURLToPath(import.meta.url));
const port = Number(process.argv[2] || 0);
const issuer = `http://127.0.0.1:${port}`;
const password = process.env.AUTHKIT_OIDC_PASSWORD || 'correct horse battery staple';
const accessTokenTtl = Number(process.env.AUTHKIT_OIDC_ACCESS_TTL || 3600);

// Authentication classes (acr): a password alone is loa:1; asking for
// loa:2 (as a step-up does, RFC 9470) adds a one-time code to the form.
const LOA_PASSWORD = 'urn:authkit:loa:1';
const LOA_SECOND_FACTOR = 'urn:authkit:loa:2';
const ONE_TIME_CODE = process.env.AUTHKIT_OIDC_OTP || '246810';

// The resource servers the test clients may ask for (RFC 8707).
const API = 'https://api.example.test/';
const REPORTS = 'https://reports.example.test/';
const resources = {
  [API]: 'api:read api:write',
  [REPORTS]: 'reports:read',
};

function publicJwk(file, alg) {
  const pem = readFileSync(join(here, 'keys', file));
  const jwk = createPublicKey(pem).export({ format: 'jwk' });
  return { ...jwk, alg, use: 'sig', kid: file };
}

const CLIENT_SECRET_JWT_SECRET = 'client-secret-jwt-secret-of-at-least-32-bytes!';
const allGrants = [
  'client_credentials',
  'refresh_token',
  'authorization_code',
  'urn:ietf:params:oauth:grant-type:device_code',
];

const confidential = (client_id, token_endpoint_auth_method, extra = {}) => ({
  client_id,
  client_secret: 'authkit-test-secret',
  token_endpoint_auth_method,
  grant_types: allGrants,
  response_types: ['code'],
  redirect_uris: ['http://127.0.0.1/callback'],
  scope: 'openid offline_access api:read api:write reports:read',
  ...extra,
});

const clients = [
  confidential('authkit-basic', 'client_secret_basic'),
  confidential('authkit-post', 'client_secret_post'),
  confidential('authkit-secret-jwt', 'client_secret_jwt', {
    client_secret: CLIENT_SECRET_JWT_SECRET,
    token_endpoint_auth_signing_alg: 'HS256',
  }),
  ...[
    ['rs256', 'RS256'],
    ['es256', 'ES256'],
    ['ed25519', 'EdDSA'],
  ].map(([name, alg]) => {
    const client = confidential(`authkit-private-jwt-${name}`, 'private_key_jwt', {
      token_endpoint_auth_signing_alg: alg,
      jwks: { keys: [publicJwk(`${name}.pem`, alg)] },
    });
    delete client.client_secret;
    return client;
  }),
  {
    // A native app signing in through the browser to a loopback receiver
    // (RFC 8252 §7.3: any port on 127.0.0.1), as `authkit login` does.
    client_id: 'authkit-browser',
    client_secret: 'authkit-test-secret',
    application_type: 'native',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/callback'],
    scope: 'openid offline_access',
  },
  {
    // A native app that must push its authorization requests (RFC 9126):
    // a request in the URL alone is refused.
    client_id: 'authkit-par',
    client_secret: 'authkit-test-secret',
    application_type: 'native',
    token_endpoint_auth_method: 'client_secret_basic',
    require_pushed_authorization_requests: true,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/callback'],
    scope: 'openid offline_access api:read',
  },
  {
    // The same, authenticating with a signed assertion (private_key_jwt).
    client_id: 'authkit-par-jwt',
    application_type: 'native',
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    jwks: { keys: [publicJwk('es256.pem', 'ES256')] },
    require_pushed_authorization_requests: true,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/callback'],
    scope: 'openid offline_access',
  },
  {
    // A public client whose access tokens must be DPoP-bound (RFC 9449).
    client_id: 'authkit-dpop',
    token_endpoint_auth_method: 'none',
    dpop_bound_access_tokens: true,
    grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
    response_types: [],
    redirect_uris: [],
    scope: 'openid offline_access',
  },
  {
    client_id: 'authkit-device',
    token_endpoint_auth_method: 'none',
    grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token', 'authorization_code'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/callback'],
    scope: 'openid offline_access api:read api:write reports:read',
  },
];

const provider = new Provider(issuer, {
  clients,
  cookies: { keys: ['authkit-test-cookie-key'] },
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  scopes: ['openid', 'offline_access', 'api:read', 'api:write', 'reports:read'],
  acrValues: [LOA_PASSWORD, LOA_SECOND_FACTOR],
  pkce: { required: () => true },
  ttl: { AccessToken: accessTokenTtl, ClientCredentials: accessTokenTtl, DeviceCode: 600 },
  // Every client that may refresh gets a refresh token; public clients'
  // rotate (the server's default).
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    deviceFlow: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
    // DPoP with nonces required at the token endpoint and at userinfo.
    dPoP: {
      enabled: true,
      nonceSecret: Buffer.alloc(32, 'authkit-test-dpop-nonce-secret!!'),
      requireNonce: () => true,
    },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (_ctx, _client, oneOf) => oneOf,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, indicator) => {
        if (!resources[indicator]) throw new errors.InvalidTarget();
        return {
          scope: resources[indicator],
          audience: indicator,
          accessTokenTTL: accessTokenTtl,
          accessTokenFormat: 'opaque',
        };
      },
    },
  },
});

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res, status, title, body) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head>` +
    `<body><main><h1>${escape(title)}</h1>${body}</main></body></html>`);
}

function loginForm(uid, message, secondFactor = false) {
  return `${message ? `<p role="alert">${escape(message)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
  <label>User name <input name="login" autocomplete="username" required></label>
  <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
  ${secondFactor ? '<label>One-time code <input name="otp" autocomplete="one-time-code" required></label>' : ''}
  <button type="submit" id="sign-in">Sign in</button>
</form>
<form method="post" action="/interaction/${escape(uid)}/abort">
  <button type="submit" id="deny">Deny</button>
</form>`;
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

// Grants consent for everything the interaction asks for.
async function consent(details) {
  const { prompt: { details: missing }, params, session, grantId } = details;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  if (missing.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  return { consent: { grantId: await grant.save() } };
}

// Whether the sign-in asks for the second-factor class.
function wantsSecondFactor(details) {
  return String(details.params.acr_values || '').split(' ').includes(LOA_SECOND_FACTOR);
}

async function interaction(req, res, url) {
  const [, , uid, action] = url.pathname.split('/');
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return page(res, 400, 'Unknown sign-in', '<p>This sign-in is not in progress.</p>');
  if (req.method === 'GET' && !action) {
    if (details.prompt.name === 'consent') {
      return provider.interactionFinished(req, res, await consent(details), { mergeWithLastSubmission: true });
    }
    return page(res, 200, 'Sign in', loginForm(uid, '', wantsSecondFactor(details)));
  }
  if (req.method === 'POST' && action === 'login') {
    const form = await readForm(req);
    const secondFactor = wantsSecondFactor(details);
    if (!form.get('login') || form.get('password') !== password) {
      return page(res, 200, 'Sign in', loginForm(uid, 'Wrong user name or password.', secondFactor));
    }
    if (secondFactor && form.get('otp') !== ONE_TIME_CODE) {
      return page(res, 200, 'Sign in', loginForm(uid, 'Wrong one-time code.', secondFactor));
    }
    const acr = secondFactor ? LOA_SECOND_FACTOR : LOA_PASSWORD;
    return provider.interactionFinished(req, res, { login: { accountId: form.get('login'), acr } }, { mergeWithLastSubmission: false });
  }
  if (req.method === 'POST' && action === 'abort') {
    return provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'The user denied the request.',
    }, { mergeWithLastSubmission: false });
  }
  return page(res, 404, 'Not found', '');
}

const callback = provider.callback();
const server = http.createServer((req, res) => {
  const url = new URL(req.url, issuer);
  if (url.pathname.startsWith('/interaction/')) {
    interaction(req, res, url).catch((err) => {
      page(res, 500, 'Sign-in failed', `<p>${escape(err.message)}</p>`);
    });
    return;
  }
  callback(req, res);
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
