// The browser's id: writes the token the server made for this session into a first-party cookie,
// so that the sessions this browser opens later (a reload, another tab) send it back and are the
// same owner. It draws nothing; the token never leaves this app's origin.

/**
 * Keep `data.token` in the cookie `data.cookie` (path `data.path`) unless it already holds it.
 * @param {{data: {cookie: string, token: string, path: string, days: number}}} component
 */
export default function (component) {
  const { cookie, token, path, days } = component.data;
  const has = document.cookie.split("; ").some((c) => c === `${cookie}=${token}`);
  if (!has) {
    document.cookie = `${cookie}=${token}; path=${path}; max-age=${days * 86400}; SameSite=Strict`;
  }
}
