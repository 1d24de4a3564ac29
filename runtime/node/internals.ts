/**
 * The key under which a Koban node hands koban/testing its drainer. The package does not export
 * it: it is not part of the public API.
 */
export const drainerKey = Symbol('koban.drainer');
