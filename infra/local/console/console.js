// The developer console: call each endpoint, decode a token (header, claims, remaining lifetime),
// ask validate-token for its verdict and build the Jitsi join link. Plain browser JavaScript, no
// framework, no network beyond this server.
const $ = (id) => document.getElementById(id);
let config = { jitsiDomain: 'meet.example.com', authMode: 'none', routes: [] };
let lastJoinUrl;
let countdown;

const selectedRoute = () => config.routes.find((entry) => entry.name === $('endpoint').value);

/** The example body of the chosen route (from the route table), with a start time ten minutes from now and the token above. */
function fillExample() {
  const route = selectedRoute();
  const example = { ...(route?.example ?? {}) };
  if ('scheduledStartTime' in example) example.scheduledStartTime = new Date(Date.now() + 10 * 60_000).toISOString();
  if ('token' in example) example.token = $('token').value.trim() || 'paste a token';
  $('body').value = JSON.stringify(example, null, 2);
}

async function call(path, body) {
  const headers = { 'content-type': 'application/json' };
  const bearer = $('bearer').value.trim();
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  const response = await fetch(path, { method: 'POST', headers, body });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text };
}

async function send() {
  $('status').textContent = 'Sending…';
  const { status, json, text } = await call(selectedRoute().path, $('body').value);
  $('status').textContent = `HTTP ${status}`;
  $('status').className = status < 400 ? 'ok' : 'bad';
  $('response').textContent = json ? JSON.stringify(json, null, 2) : text;
  const token = json?.token ?? json?.therapistToken;
  if (status === 200 && token) {
    lastJoinUrl = json.joinUrl;
    $('token').value = token;
    $('room').value = json.roomName ?? '';
    await inspect();
  }
}

function decodePart(part) {
  const base64 = part.replace(/-/g, '+').replace(/_/g, '/');
  const bytes = Uint8Array.from(atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4)), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

function describeSpan(seconds) {
  const s = Math.abs(Math.round(seconds));
  const parts = [
    [Math.floor(s / 3600), 'h'],
    [Math.floor((s % 3600) / 60), 'm'],
    [s % 60, 's'],
  ].filter(([n], i) => n > 0 || i === 2);
  return parts.map(([n, unit]) => `${n}${unit}`).join(' ');
}

function showLifetime(claims) {
  clearInterval(countdown);
  const update = () => {
    const now = Date.now() / 1000;
    let text;
    if (typeof claims.exp !== 'number') text = 'No exp claim: Jitsi would accept it forever (we never issue such tokens).';
    else if (typeof claims.nbf === 'number' && now < claims.nbf)
      text = `Not valid yet: usable in ${describeSpan(claims.nbf - now)}, then for ${describeSpan(claims.exp - claims.nbf)}.`;
    else if (now >= claims.exp) text = `Expired ${describeSpan(now - claims.exp)} ago.`;
    else text = `Remaining lifetime: ${describeSpan(claims.exp - now)} (until ${new Date(claims.exp * 1000).toISOString()}).`;
    $('lifetime').textContent = text;
  };
  update();
  countdown = setInterval(update, 1000);
}

function joinLink(token, claims) {
  const room = $('room').value.trim() || claims.room;
  const tenant = claims.sub && claims.sub !== config.sub ? `${claims.sub}/` : '';
  const base = lastJoinUrl?.endsWith(`/${room}`) ? lastJoinUrl : `https://${config.jitsiDomain}/${tenant}${room}`;
  return `${base}?jwt=${encodeURIComponent(token)}`;
}

async function inspect() {
  const token = $('token').value.trim();
  const parts = token.split('.');
  $('verdict').textContent = '';
  $('join').hidden = true;
  $('join-url').textContent = '';
  let claims;
  try {
    if (parts.length !== 3) throw new Error('not three parts');
    $('header').textContent = JSON.stringify(decodePart(parts[0]), null, 2);
    claims = decodePart(parts[1]);
    $('claims').textContent = JSON.stringify(claims, null, 2);
    showLifetime(claims);
  } catch {
    $('header').textContent = '';
    $('claims').textContent = '';
    $('lifetime').textContent = 'This is not a readable JWT (three base64url parts of JSON).';
  }
  const room = $('room').value.trim();
  const { status, json } = await call(config.validateTokenPath, JSON.stringify(room ? { token, roomName: room } : { token }));
  if (status === 200 && json.valid) {
    $('verdict').textContent = `Token doctor: Jitsi would let the holder in${room ? ` to ${room}` : ''} (${json.moderator ? 'moderator' : 'participant'}).`;
    $('verdict').className = 'ok';
  } else if (status === 200) {
    $('verdict').textContent = `Token doctor: refused, reason ${json.reason}.`;
    $('verdict').className = 'bad';
  } else {
    $('verdict').textContent = `Token doctor answered HTTP ${status}: ${json?.title ?? ''}`;
    $('verdict').className = 'bad';
  }
  if (claims && typeof claims.room === 'string') {
    const link = joinLink(token, claims);
    $('join').href = link;
    $('join').hidden = false;
    $('join-url').textContent = link;
  }
}

$('endpoint').addEventListener('change', fillExample);
$('send').addEventListener('click', () =>
  send().catch((error) => {
    $('status').textContent = String(error);
  }),
);
$('inspect').addEventListener('click', () =>
  inspect().catch((error) => {
    $('verdict').textContent = String(error);
  }),
);
fetch('/console/config.json')
  .then((response) => response.json())
  .then((value) => {
    config = value;
    $('mode').textContent = `Local server only; not deployed. Caller authentication: ${config.authMode}, Jitsi at ${config.jitsiDomain}.`;
    for (const route of config.routes) $('endpoint').append(new Option(`POST ${route.path}`, route.name));
    fillExample();
  })
  .catch(() => {});
