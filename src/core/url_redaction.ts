// What of a URL may appear in errors and events, for every folder that reports a URL. User
// info is dropped, and the values of the query parameters that commonly carry credentials
// (`?access_token=`, `?api_key=`, signed-URL signatures …) are masked.

const SECRET_PARAM_NAMES = "access_token|refresh_token|id_token|token|api_key|apikey|api-key|key|" +
  "client_secret|secret|password|passwd|sig|signature|x-amz-signature|x-amz-credential|" +
  "x-amz-security-token|x-goog-signature|x-goog-credential|private_token|auth_token|oauth_token|" +
  "session|sessionid|session_id";
// Also any name that ends in `_`, `-` or `.` and then token, secret, key, password or signature
// (`gitlab_private_token`,
// `my-api-key` …), and the same pairs in a fragment (`#access_token=` of OAuth implicit flows).
const SECRET_PARAMS = new RegExp(
  `([?&#](?:${SECRET_PARAM_NAMES}|[\\w.-]*[_.-](?:token|secret|key|password|signature))=)([^&#]*)`,
  "gi",
);
const MASK = "***";

/** The URL without user info or credential query values, for errors and events. */
export function redact(url: string): string {
  let out = url;
  if (out.includes("@")) {
    try {
      const u = new URL(out);
      u.username = "";
      u.password = "";
      out = u.href;
    } catch {
      // Not a URL: leave it to the query rule below.
    }
  }
  return out.includes("?") || out.includes("#") ? out.replace(SECRET_PARAMS, `$1${MASK}`) : out;
}

/**
 * The secret parts of `url` as an error may quote them, each with its masked form: the user
 * info with its "@", and each credential parameter with its "=", as written and decoded. (The
 * bare values could be as short as one letter, which would mask half of any message.)
 */
function secretsOf(url: string): [string, string][] {
  const secrets: [string, string][] = [];
  const add = (raw: string, masked: string): void => {
    secrets.push([raw, masked]);
    try {
      const decoded = decodeURIComponent(raw);
      if (decoded !== raw) secrets.push([decoded, masked]);
    } catch {
      // Malformed escapes: the raw spelling is enough.
    }
  };
  if (url.includes("@")) {
    try {
      const u = new URL(url);
      if (u.username !== "" || u.password !== "") {
        add(`${u.username}${u.password === "" ? "" : `:${u.password}`}@`, "");
      }
    } catch {
      // Not a URL: no user info to find.
    }
  }
  if (url.includes("?") || url.includes("#")) {
    for (const match of url.matchAll(SECRET_PARAMS)) {
      if (match[2] !== "") add(match[0].slice(1), `${match[1].slice(1)}${MASK}`);
    }
  }
  return secrets;
}

/**
 * `error` as it may travel as a cause: unchanged when nothing of `url`'s secrets is in it (or
 * its causes), else a copy of the chain with those secrets masked.
 */
export function scrubError(error: unknown, url: string): unknown {
  const secrets = secretsOf(url);
  if (secrets.length === 0 || !mentions(error, secrets, 0)) return error;
  return scrub(error, secrets, 0);
}

function mentions(error: unknown, secrets: [string, string][], depth: number): boolean {
  if (depth > 8 || error === undefined || error === null) return false;
  const text = error instanceof Error ? `${error.message}\n${error.stack}` : String(error);
  if (secrets.some(([raw]) => text.includes(raw))) return true;
  return error instanceof Error && mentions(error.cause, secrets, depth + 1);
}

function scrub(error: unknown, secrets: [string, string][], depth: number): unknown {
  const mask = (text: string): string =>
    secrets.reduce((t, [raw, masked]) => t.split(raw).join(masked), text);
  if (!(error instanceof Error)) return typeof error === "string" ? mask(error) : error;
  const cause = depth < 8 && error.cause !== undefined
    ? scrub(error.cause, secrets, depth + 1)
    : undefined;
  const copy = new Error(mask(error.message), cause === undefined ? undefined : { cause });
  copy.name = error.name;
  copy.stack = error.stack === undefined ? undefined : mask(error.stack);
  return copy;
}
