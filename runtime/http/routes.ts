import type { NextFunction, Request, Response } from 'express';
import { CrimeError } from '../errors.js';

/** Methods per path of an HTTP surface; GET routes answer HEAD too (express does). */
export type RouteTable = Readonly<Record<string, readonly string[]>>;

/** The error for a request no route took: 405 with Allow on a known path, else 404. */
export function unmatched(routes: RouteTable, method: string, path: string): CrimeError {
  const methods = routes[path];
  if (methods === undefined) return new CrimeError('NOT_FOUND', `no route ${method} ${path}`);
  const allow = methods.includes('GET') && !methods.includes('HEAD') ? [...methods, 'HEAD'] : [...methods];
  return new CrimeError('METHOD_NOT_ALLOWED', `${path} takes ${allow.join(', ')}, not ${method}`, { allow });
}

/** Express middleware after every route: 405 + Allow or 404, through the error handler. */
export function unmatchedRoute(routes: RouteTable): (req: Request, res: Response, next: NextFunction) => void {
  return (req, _res, next) => next(unmatched(routes, req.method, req.path));
}
