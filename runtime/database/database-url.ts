import { KobanConfigError } from '../../sdk/errors.js';

/** A `postgres://` URL checked up front, with its password taken out of the text Koban shows. */
export interface DatabaseUrl {
  /** What the driver connects with: the URL without a `password` query parameter. */
  readonly url: string;
  /** A password given as `?password=` (as libpq accepts it); the driver gets it as an option. */
  readonly password: string | undefined;
  /** The URL with every password replaced by `***`: the only form that goes into messages. */
  readonly description: string;
}

const schemePattern = /^postgres(ql)?:\/\//;
const passwordParameter = /^(ssl)?password$/i;

export function isPostgresUrl(value: string): boolean {
  return schemePattern.test(value);
}

/**
 * Checks the parts of a URL the driver would otherwise fail on with a raw TypeError (a port that
 * is not a number) or misread (a `?password=` it would send to the server as a setting).
 */
export function parseDatabaseUrl(input: string): DatabaseUrl {
  const description = redactUrl(input);
  const rest = input.replace(schemePattern, '');
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  const hosts = authority.slice(authority.lastIndexOf('@') + 1);
  for (const host of hosts.split(',')) {
    const port = /^(?:\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(host)?.[1];
    if (port === undefined || port === '') continue;
    if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
      throw new KobanConfigError(
        `database: the port ${JSON.stringify(port)} in ${description} is not a number from 1 to 65535`,
      );
    }
  }
  const queryStart = input.indexOf('?');
  if (queryStart === -1) return { url: input, password: undefined, description };
  const hashStart = input.indexOf('#', queryStart);
  const query = input.slice(queryStart + 1, hashStart === -1 ? undefined : hashStart);
  let password: string | undefined;
  const kept: string[] = [];
  for (const pair of query.split('&')) {
    const name = decode(pair.split('=', 1)[0] ?? '');
    if (name.toLowerCase() === 'password') password = decode(pair.slice(pair.indexOf('=') + 1));
    else if (pair !== '') kept.push(pair);
  }
  const url = input.slice(0, queryStart) + (kept.length > 0 ? `?${kept.join('&')}` : '');
  return { url, password, description };
}

/** The URL with the password of its user info and of any `password` query parameter hidden. */
export function redactUrl(url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0] ?? '';
  const rest = url.slice(scheme.length);
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  const at = authority.lastIndexOf('@');
  const userInfo = at === -1 ? '' : authority.slice(0, at);
  const colon = userInfo.indexOf(':');
  const shownAuthority = colon === -1 ? authority : `${userInfo.slice(0, colon)}:***${authority.slice(at)}`;
  const tail = (authorityEnd === -1 ? '' : rest.slice(authorityEnd)).replace(
    /([?&])([^=&#]*)=([^&#]*)/g,
    (whole, separator: string, name: string) =>
      passwordParameter.test(decode(name)) ? `${separator}${name}=***` : whole,
  );
  return scheme + shownAuthority + tail;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}
